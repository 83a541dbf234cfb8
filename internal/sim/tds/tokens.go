package tds

import (
	"encoding/binary"
	"strconv"
	"unicode/utf16"
)

// Token types ([MS-TDS] 2.2.7). Only tokens go-mssqldb, tedious and
// FreeTDS all parse are sent.
const (
	tokReturnStatus = 0x79
	tokColMetadata  = 0x81
	tokError        = 0xAA
	tokInfo         = 0xAB
	tokReturnValue  = 0xAC
	tokLoginAck     = 0xAD
	tokRow          = 0xD1
	tokEnvChange    = 0xE3
	tokDone         = 0xFD
	tokDoneProc     = 0xFE
	tokDoneInProc   = 0xFF
)

// DONE status bits.
const (
	doneFinal = 0x00
	doneMore  = 0x01
	doneError = 0x02
	doneCount = 0x10
	doneAttn  = 0x20
)

// DONE CurCmd values (the statement kind, as SQL Server reports it).
const (
	cmdNone     = 0x00
	cmdSet      = 0xBE
	cmdSelect   = 0xC1
	cmdRollback = 0xD2
	cmdBegin    = 0xD4
	cmdCommit   = 0xD5
	cmdExecute  = 0xE0
)

// ENVCHANGE types used.
const (
	envDatabase   = 1
	envLanguage   = 2
	envPacketSize = 4
	envCollation  = 7
	envBeginTran  = 8
	envCommitTran = 9
	envRollback   = 10
	envResetAck   = 18
)

// collation is SQL_Latin1_General_CP1_CI_AS, SQL Server's installation
// default and SAP Business One's: LCID 0x0409, case-insensitive,
// accent-sensitive, sort id 52 (code page 1252).
var collation = []byte{0x09, 0x04, 0xD0, 0x00, 0x34}

// appendUTF16 appends s as UTF-16LE.
func appendUTF16(b []byte, s string) []byte {
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			b = binary.LittleEndian.AppendUint16(b, uint16(r1))
			b = binary.LittleEndian.AppendUint16(b, uint16(r2))
			continue
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	return b
}

// utf16Units is the length of s in UTF-16 code units.
func utf16Units(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// decodeUTF16 reads UTF-16LE bytes (an odd trailing byte is dropped).
func decodeUTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// bVarchar is B_VARCHAR: length in UTF-16 units (one byte), then the text.
// Longer text is cut to 255 units.
func bVarchar(b []byte, s string) []byte {
	u := utf16.Encode([]rune(s))
	if len(u) > 255 {
		u = u[:255]
	}
	b = append(b, byte(len(u)))
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

// usVarchar is US_VARCHAR: a two-byte length in UTF-16 units.
func usVarchar(b []byte, s string) []byte {
	u := utf16.Encode([]rune(s))
	if len(u) > 65535 {
		u = u[:65535]
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(u)))
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return b
}

// withLength writes a token whose body follows a two-byte length.
func withLength(tok byte, body []byte) []byte {
	b := make([]byte, 0, 3+len(body))
	b = append(b, tok)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

func doneToken(tok byte, status, curCmd uint16, rows uint64) []byte {
	b := make([]byte, 0, 13)
	b = append(b, tok)
	b = binary.LittleEndian.AppendUint16(b, status)
	b = binary.LittleEndian.AppendUint16(b, curCmd)
	return binary.LittleEndian.AppendUint64(b, rows)
}

// messageToken is ERROR (class > 10) or INFO: number, state, class, text,
// server, procedure, line.
func messageToken(number int32, state, class uint8, text, server, proc string, line int32) []byte {
	var body []byte
	body = binary.LittleEndian.AppendUint32(body, uint32(number))
	body = append(body, state, class)
	body = usVarchar(body, text)
	body = bVarchar(body, server)
	body = bVarchar(body, proc)
	body = binary.LittleEndian.AppendUint32(body, uint32(line))
	tok := byte(tokInfo)
	if class > 10 {
		tok = tokError
	}
	return withLength(tok, body)
}

// envChangeText is an ENVCHANGE with B_VARCHAR new and old values.
func envChangeText(typ byte, newValue, oldValue string) []byte {
	body := []byte{typ}
	body = bVarchar(body, newValue)
	body = bVarchar(body, oldValue)
	return withLength(tokEnvChange, body)
}

// envChangeBytes is an ENVCHANGE with B_VARBYTE values (collation,
// transaction descriptors).
func envChangeBytes(typ byte, newValue, oldValue []byte) []byte {
	body := []byte{typ, byte(len(newValue))}
	body = append(body, newValue...)
	body = append(body, byte(len(oldValue)))
	body = append(body, oldValue...)
	return withLength(tokEnvChange, body)
}

func envPacketSizeToken(size, old int) []byte {
	return envChangeText(envPacketSize, strconv.Itoa(size), strconv.Itoa(old))
}

func returnStatusToken(status int32) []byte {
	b := []byte{tokReturnStatus}
	return binary.LittleEndian.AppendUint32(b, uint32(status))
}

// loginAckToken: interface 1 (SQL), the TDS version (big-endian),
// "Microsoft SQL Server" and 16.0.1000. The length must be exact: FreeTDS
// derives the name's length from it.
func loginAckToken(tdsVersion uint32) []byte {
	var body []byte
	body = append(body, 1)
	body = binary.BigEndian.AppendUint32(body, tdsVersion)
	body = bVarchar(body, "Microsoft SQL Server")
	body = append(body, 16, 0, 0x03, 0xE8)
	return withLength(tokLoginAck, body)
}
