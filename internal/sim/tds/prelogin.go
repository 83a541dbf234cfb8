package tds

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"time"
)

// PRELOGIN option tokens ([MS-TDS] 2.2.6.5).
const (
	preVersion    = 0x00
	preEncryption = 0x01
	preInstOpt    = 0x02
	preThreadID   = 0x03
	preMARS       = 0x04
	preTerminator = 0xFF
)

// ENCRYPTION values.
const (
	encryptOff    = 0x00
	encryptOn     = 0x01
	encryptNotSup = 0x02
	encryptReq    = 0x03
)

// Encryption is how the endpoint answers a client's encryption request.
type Encryption int

const (
	// EncryptionOptional answers as SQL Server without "force encryption":
	// a client that asks for encryption gets TLS for the whole connection,
	// one that says it may encrypt gets TLS for the login packet only (its
	// password), and one that cannot encrypt gets none.
	EncryptionOptional Encryption = iota
	// EncryptionOff never encrypts (the server has no certificate):
	// clients that require encryption fail.
	EncryptionOff
	// EncryptionRequired encrypts every connection, as "force encryption".
	EncryptionRequired
)

// prelogin is what the endpoint reads from a client's PRELOGIN.
type prelogin struct {
	encryption byte
	hasEncrypt bool
}

// parsePrelogin reads the option table: {token, offset BE, length BE}…
// 0xFF, offsets from the start of the payload.
func parsePrelogin(b []byte) (prelogin, error) {
	var p prelogin
	first := true
	for i := 0; ; i += 5 {
		if i >= len(b) {
			return p, errors.New("tds: PRELOGIN without terminator")
		}
		tok := b[i]
		if tok == preTerminator {
			break
		}
		if i+5 > len(b) {
			return p, errors.New("tds: PRELOGIN option table truncated")
		}
		if first && tok != preVersion {
			// [MS-TDS] 3.3.5.1: VERSION must come first.
			return p, errors.New("tds: PRELOGIN does not start with VERSION")
		}
		first = false
		off := int(binary.BigEndian.Uint16(b[i+1:]))
		n := int(binary.BigEndian.Uint16(b[i+3:]))
		if off+n > len(b) {
			return p, fmt.Errorf("tds: PRELOGIN option %#x out of bounds", tok)
		}
		if tok == preEncryption && n >= 1 {
			p.encryption = b[off]
			p.hasEncrypt = true
		}
	}
	return p, nil
}

// preloginAnswer is the server's PRELOGIN: VERSION 16.0.1000 (SQL Server
// 2022), ENCRYPTION, INSTOPT match, MARS off; no TRACEID or
// FEDAUTHREQUIRED (go-mssqldb rejects a FEDAUTHREQUIRED of the wrong
// length, and FreeTDS takes a missing MARS for SQL Server 2000).
func preloginAnswer(encryption byte) []byte {
	opts := []struct {
		tok  byte
		data []byte
	}{
		{preVersion, []byte{16, 0, 0x03, 0xE8, 0, 0}},
		{preEncryption, []byte{encryption}},
		{preInstOpt, []byte{0}},
		{preMARS, []byte{0}},
	}
	off := len(opts)*5 + 1
	var table, data []byte
	for _, o := range opts {
		table = append(table, o.tok, byte((off+len(data))>>8), byte(off+len(data)), byte(len(o.data)>>8), byte(len(o.data)))
		data = append(data, o.data...)
	}
	table = append(table, preTerminator)
	return append(table, data...)
}

// negotiate picks the answer to a client's ENCRYPTION value and the TLS
// mode that follows: none, login (first LOGIN7 packet only) or full.
func negotiate(mode Encryption, client byte, hasTLS bool) (answer byte, tlsMode int) {
	if !hasTLS || mode == EncryptionOff {
		return encryptNotSup, tlsNone
	}
	client &^= 0x80 // client certificate bit: not supported, ignored
	if mode == EncryptionRequired {
		if client == encryptNotSup {
			return encryptReq, tlsFull
		}
		return encryptOn, tlsFull
	}
	switch client {
	case encryptOn, encryptReq:
		return encryptOn, tlsFull
	case encryptOff:
		return encryptOff, tlsLogin
	}
	return encryptNotSup, tlsNone
}

const (
	tlsNone = iota
	tlsLogin
	tlsFull
)

// selfSigned makes the certificate the endpoint presents when none is
// configured: clients connect with TrustServerCertificate.
func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "tiktokb1 SQL Server simulator"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// tlsShim is the transport under the server's tls.Conn. During the
// handshake TDS 7.x carries TLS bytes inside PRELOGIN packets; after it,
// TLS records go raw on TCP. Reads after the handshake stop at TLS record
// boundaries, so in login-only mode the tls.Conn never swallows the
// plaintext packets that follow the encrypted first LOGIN7 packet.
type tlsShim struct {
	conn      net.Conn
	handshake bool
	in        []byte // rest of the current PRELOGIN packet (handshake)
	hdr       []byte // rest of the current record header (after)
	remain    int    // rest of the current record's body (after)
}

func (s *tlsShim) Read(b []byte) (int, error) {
	if s.handshake {
		for len(s.in) == 0 {
			typ, _, payload, err := readPacket(s.conn)
			if err != nil {
				return 0, err
			}
			if typ != pktPrelogin {
				return 0, fmt.Errorf("tds: packet type %#x during the TLS handshake", typ)
			}
			s.in = payload
		}
		n := copy(b, s.in)
		s.in = s.in[n:]
		return n, nil
	}
	if len(s.hdr) == 0 && s.remain == 0 {
		h := make([]byte, 5)
		if _, err := io.ReadFull(s.conn, h); err != nil {
			return 0, err
		}
		s.hdr = h
		s.remain = int(binary.BigEndian.Uint16(h[3:5]))
	}
	if len(s.hdr) > 0 {
		n := copy(b, s.hdr)
		s.hdr = s.hdr[n:]
		return n, nil
	}
	if len(b) > s.remain {
		b = b[:s.remain]
	}
	n, err := s.conn.Read(b)
	s.remain -= n
	return n, err
}

func (s *tlsShim) Write(b []byte) (int, error) {
	if !s.handshake {
		return s.conn.Write(b)
	}
	// Handshake flights go out as PRELOGIN messages of packets of at most
	// 4096 bytes.
	pw := newPacketWriter(s.conn, prePacketSize, 0)
	pw.begin(pktPrelogin)
	if _, err := pw.Write(b); err != nil {
		return 0, err
	}
	if err := pw.end(); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (s *tlsShim) Close() error                       { return s.conn.Close() }
func (s *tlsShim) LocalAddr() net.Addr                { return s.conn.LocalAddr() }
func (s *tlsShim) RemoteAddr() net.Addr               { return s.conn.RemoteAddr() }
func (s *tlsShim) SetDeadline(t time.Time) error      { return s.conn.SetDeadline(t) }
func (s *tlsShim) SetReadDeadline(t time.Time) error  { return s.conn.SetReadDeadline(t) }
func (s *tlsShim) SetWriteDeadline(t time.Time) error { return s.conn.SetWriteDeadline(t) }
