package tds

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// login7 is what the endpoint reads from LOGIN7 ([MS-TDS] 2.2.6.4).
type login7 struct {
	tdsVersion uint32
	packetSize uint32
	optFlags2  byte
	typeFlags  byte
	hostName   string
	userName   string
	password   string
	appName    string
	serverName string
	library    string
	language   string
	database   string
	sspi       bool
}

// TDS versions a LOGINACK may name (tedious refuses others).
const (
	tds71  = 0x71000001
	tds72  = 0x72090002
	tds73A = 0x730A0003
	tds73B = 0x730B0003
	tds74  = 0x74000004
)

// parseLogin7 reads the fixed part and the strings it points at, checking
// every offset (tedious writes a bogus length for an empty host name, so a
// string out of bounds is read as empty rather than refused).
func parseLogin7(b []byte) (*login7, error) {
	if len(b) < 94 {
		return nil, fmt.Errorf("tds: LOGIN7 of %d bytes is shorter than its fixed part", len(b))
	}
	le := binary.LittleEndian
	l := &login7{
		tdsVersion: le.Uint32(b[4:]),
		packetSize: le.Uint32(b[8:]),
		optFlags2:  b[25],
		typeFlags:  b[26],
	}
	str := func(at int) string {
		off := int(le.Uint16(b[at:]))
		n := int(le.Uint16(b[at+2:])) * 2
		if n == 0 || off+n > len(b) || off < 0 {
			return ""
		}
		return decodeUTF16(b[off : off+n])
	}
	l.hostName = str(36)
	l.userName = str(40)
	// The password: each byte XOR 0xA5, then its nibbles swapped.
	off, n := int(le.Uint16(b[44:])), int(le.Uint16(b[46:]))*2
	if n > 0 && off+n <= len(b) {
		pw := make([]byte, n)
		for i := 0; i < n; i++ {
			c := b[off+i] ^ 0xA5
			pw[i] = c<<4 | c>>4
		}
		l.password = decodeUTF16(pw)
	}
	l.appName = str(48)
	l.serverName = str(52)
	l.library = str(60)
	l.language = str(64)
	l.database = str(68)
	sspiLen := int(le.Uint16(b[80:]))
	l.sspi = l.optFlags2&0x80 != 0 || sspiLen > 0
	if l.tdsVersion == 0 {
		return nil, errors.New("tds: LOGIN7 without a TDS version")
	}
	return l, nil
}

// ackVersion is the TDS version the server's LOGINACK names: the client's
// own when it asked for 7.1–7.3 (what BBF does; FreeTDS adopts what
// LOGINACK says), else 7.4. LOGIN7 carries it little-endian, so 7.4 reads
// 0x74000004.
func ackVersion(client uint32) uint32 {
	switch client {
	case tds71, tds72, tds73A, tds73B:
		return client
	}
	return tds74
}

// packetSizeFor is the size the server announces: the client's request
// within 512–32767, 4096 when the client leaves it to the server.
func packetSizeFor(requested uint32) int {
	switch {
	case requested == 0:
		return 4096
	case requested < 512:
		return 512
	case requested > 32767:
		return 32767
	}
	return int(requested)
}
