package tiktoksim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"slices"
	"strings"
)

// A cursor is what a page token carries: keyset paging on (sort key, id) of
// the last row returned. Rows created after a walk started sort before the
// cursor (DESC) or are simply new rows (ASC), so a client never skips or
// repeats a row that existed when it started. A row whose sort key changes
// mid-walk (update_time) may move; that is what real keyset paging does and
// why the service polls update_time windows that end a little before now.
type cursor struct {
	kind   byte   // the list: 'o' orders, 'c' cancellations, 'p' products
	sort   byte   // the sort field: 'c' create_time, 'u' update_time, 's' creation sequence
	desc   bool   // sort order
	filter uint64 // hash of the request's filters: a token is only valid for the query it came from
	key    int64  // sort key of the last row returned
	id     string // id of the last row returned (ties on key)
}

// encodeCursor makes an opaque token: the cursor masked with a keystream and
// authenticated, as standard base64 with padding. The salt is chosen so that
// the token contains both '+' and '/' (and its length gives '=' padding), so
// a client that forgets to URL-encode the token, or signs it encoded, fails
// on the first page rather than in production.
func (s *Server) encodeCursor(c cursor) string {
	plain := make([]byte, 0, 32+len(c.id))
	plain = append(plain, 1, c.kind, c.sort, boolByte(c.desc))
	plain = binary.BigEndian.AppendUint64(plain, c.filter)
	plain = binary.BigEndian.AppendUint64(plain, uint64(c.key))
	plain = append(plain, byte(len(c.id)))
	plain = append(plain, c.id...)
	var tok string
	for salt := 0; salt < 1<<16; salt++ {
		tok = base64.StdEncoding.EncodeToString(s.sealCursor(uint16(salt), plain))
		if strings.Contains(tok, "+") && strings.Contains(tok, "/") {
			break
		}
	}
	return tok
}

func (s *Server) sealCursor(salt uint16, plain []byte) []byte {
	out := binary.BigEndian.AppendUint16(nil, salt)
	ks := s.keystream(salt, len(plain))
	for i, b := range plain {
		out = append(out, b^ks[i])
	}
	return append(out, s.cursorTag(salt, plain)...)
}

func (s *Server) keystream(salt uint16, n int) []byte {
	var ks []byte
	for block := byte(0); len(ks) < n; block++ {
		h := sha256.New()
		h.Write(s.pageKey)
		h.Write([]byte{byte(salt >> 8), byte(salt), block})
		ks = h.Sum(ks)
	}
	return ks[:n]
}

func (s *Server) cursorTag(salt uint16, plain []byte) []byte {
	m := hmac.New(sha256.New, s.pageKey)
	m.Write([]byte{byte(salt >> 8), byte(salt)})
	m.Write(plain)
	return m.Sum(nil)[:8]
}

// decodeCursor reverses encodeCursor; false for anything it did not make.
func (s *Server) decodeCursor(tok string) (cursor, bool) {
	raw, err := base64.StdEncoding.DecodeString(tok)
	if err != nil || len(raw) < 2+21+8 {
		return cursor{}, false
	}
	salt := binary.BigEndian.Uint16(raw)
	masked, tag := raw[2:len(raw)-8], raw[len(raw)-8:]
	ks := s.keystream(salt, len(masked))
	plain := make([]byte, len(masked))
	for i := range masked {
		plain[i] = masked[i] ^ ks[i]
	}
	if !hmac.Equal(tag, s.cursorTag(salt, plain)) || plain[0] != 1 {
		return cursor{}, false
	}
	c := cursor{kind: plain[1], sort: plain[2], desc: plain[3] == 1}
	c.filter = binary.BigEndian.Uint64(plain[4:])
	c.key = int64(binary.BigEndian.Uint64(plain[12:]))
	n := int(plain[20])
	if len(plain) != 21+n {
		return cursor{}, false
	}
	c.id = string(plain[21:])
	return c, true
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// filterHash identifies a request's filters (parsed, so re-marshalled bodies
// with another key order or spacing still match their tokens).
func filterHash(v any) uint64 {
	b, _ := json.Marshal(v)
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// compareIDs orders numeric id strings numerically (shorter is smaller).
func compareIDs(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// keysetPage sorts rows by (key, id), skips everything up to and including
// the cursor, and returns at most size rows and whether more follow.
func keysetPage[T any](rows []T, key func(T) int64, id func(T) string, desc bool, after *cursor, size int) ([]T, bool) {
	cmp := func(ka int64, ia string, kb int64, ib string) int {
		c := 0
		switch {
		case ka < kb:
			c = -1
		case ka > kb:
			c = 1
		default:
			c = compareIDs(ia, ib)
		}
		if desc {
			c = -c
		}
		return c
	}
	sorted := slices.Clone(rows)
	slices.SortFunc(sorted, func(a, b T) int { return cmp(key(a), id(a), key(b), id(b)) })
	start := 0
	if after != nil {
		start = len(sorted)
		for i, r := range sorted {
			if cmp(key(r), id(r), after.key, after.id) > 0 {
				start = i
				break
			}
		}
	}
	end := min(start+size, len(sorted))
	return sorted[start:end], end < len(sorted)
}
