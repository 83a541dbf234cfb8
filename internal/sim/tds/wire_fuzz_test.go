package tds

import "testing"

// FuzzClientMessages: the parsers of what clients send (PRELOGIN, LOGIN7,
// RPC) never panic on malformed bytes; they fail with an error.
func FuzzClientMessages(f *testing.F) {
	f.Add([]byte{0, 0, 6, 0, 6, 0xFF, 16, 0, 3, 0xE8, 0, 0})
	f.Add(append(make([]byte, 94), 1, 0))
	// sp_executesql with one NVARCHAR and one INTN parameter.
	f.Add([]byte{0xFF, 0xFF, 10, 0, 0, 0, 0, 0, 0xE7, 8, 0, 0, 0, 0, 0, 0, 4, 0, 'x', 0, 'y', 0, 0, 0, 0x26, 4, 4, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parsePrelogin(b)
		_, _ = parseLogin7(b)
		rd := &reader{b: b}
		call, err := readRPC(rd)
		if err == nil && call == nil {
			t.Fatal("no call and no error")
		}
	})
}
