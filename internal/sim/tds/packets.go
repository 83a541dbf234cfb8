package tds

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Packet types ([MS-TDS] 2.2.3.1.1).
const (
	pktSQLBatch  = 0x01
	pktRPC       = 0x03
	pktReply     = 0x04
	pktAttention = 0x06
	pktBulkLoad  = 0x07
	pktTM        = 0x0E
	pktLogin7    = 0x10
	pktSSPI      = 0x11
	pktPrelogin  = 0x12
)

// Packet status bits.
const (
	statusEOM             = 0x01
	statusIgnore          = 0x02
	statusResetConn       = 0x08
	statusResetConnNoTran = 0x10
)

const (
	headerLen = 8
	// maxMessage bounds what one client message may allocate: a batch of
	// SQL text is small, LOGIN7 is at most 128 KB.
	maxMessage = 64 << 20
	// prePacketSize is the packet size before login completes.
	prePacketSize = 4096
)

// message is one client message: the payloads of its packets joined.
type message struct {
	typ byte
	// status of the first packet, where RESETCONNECTION lives.
	status byte
	// ignore: the client ended the message with IGNORE (it gave up
	// sending it).
	ignore bool
	data   []byte
}

func (m *message) reset() bool { return m.status&(statusResetConn|statusResetConnNoTran) != 0 }

// readPacket reads one packet. Only the EOM bit is meaningful for a
// server: SqlClient-family clients also set 0x04 on non-final packets.
func readPacket(r io.Reader) (typ, status byte, payload []byte, err error) {
	var h [headerLen]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return 0, 0, nil, err
	}
	n := int(binary.BigEndian.Uint16(h[2:4]))
	if n < headerLen {
		return 0, 0, nil, fmt.Errorf("tds: packet length %d shorter than its header", n)
	}
	payload = make([]byte, n-headerLen)
	if _, err = io.ReadFull(r, payload); err != nil {
		return 0, 0, nil, err
	}
	return h[0], h[1], payload, nil
}

// readMessage reads packets up to the one with EOM. The packet id is not
// checked (FreeTDS always sends 1).
func readMessage(r io.Reader) (*message, error) {
	typ, status, payload, err := readPacket(r)
	if err != nil {
		return nil, err
	}
	m := &message{typ: typ, status: status, data: payload}
	for status&statusEOM == 0 {
		var t byte
		t, status, payload, err = readPacket(r)
		if err != nil {
			return nil, err
		}
		if t != typ {
			return nil, fmt.Errorf("tds: packet of type %#x inside a message of type %#x", t, typ)
		}
		if len(m.data)+len(payload) > maxMessage {
			return nil, errors.New("tds: client message larger than 64 MB")
		}
		m.data = append(m.data, payload...)
	}
	m.ignore = status&statusIgnore != 0
	return m, nil
}

// packetWriter frames one server message into packets of at most size
// bytes. Non-final packets carry status 0 exactly: go-mssqldb takes any
// other status as the last packet.
type packetWriter struct {
	w    io.Writer
	size int
	spid uint16
	typ  byte
	id   byte
	buf  []byte
	err  error
}

func newPacketWriter(w io.Writer, size int, spid uint16) *packetWriter {
	return &packetWriter{w: w, size: size, spid: spid, buf: make([]byte, headerLen, size)}
}

// begin starts a message of type typ.
func (p *packetWriter) begin(typ byte) {
	p.typ = typ
	p.buf = p.buf[:headerLen]
	p.id = 1
}

// Write appends message bytes, sending full packets as they fill.
func (p *packetWriter) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n := len(b)
	for len(b) > 0 {
		if len(p.buf) == p.size {
			if err := p.flush(0); err != nil {
				return 0, err
			}
		}
		k := min(p.size-len(p.buf), len(b))
		p.buf = append(p.buf, b[:k]...)
		b = b[k:]
	}
	return n, nil
}

// end sends the last packet of the message (EOM).
func (p *packetWriter) end() error {
	if p.err != nil {
		return p.err
	}
	return p.flush(statusEOM)
}

func (p *packetWriter) flush(status byte) error {
	h := p.buf[:headerLen]
	h[0] = p.typ
	h[1] = status
	binary.BigEndian.PutUint16(h[2:4], uint16(len(p.buf)))
	binary.BigEndian.PutUint16(h[4:6], p.spid)
	h[6] = p.id
	h[7] = 0
	p.id++
	if _, err := p.w.Write(p.buf); err != nil {
		p.err = err
		return err
	}
	p.buf = p.buf[:headerLen]
	return nil
}

// setSize changes the packet size (after the login response). A larger
// buffer is allocated when needed.
func (p *packetWriter) setSize(size int) {
	p.size = size
	if cap(p.buf) < size {
		nb := make([]byte, len(p.buf), size)
		copy(nb, p.buf)
		p.buf = nb
	}
}
