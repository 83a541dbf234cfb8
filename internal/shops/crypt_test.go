package shops

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealerRoundTrip(t *testing.T) {
	s, err := NewSealer(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	const token = "ROW_Fw8rBwAAAAAkW03FYd09DG-9INtpw361hWthei8S3fHX8iPJ5AUv99fLSCYD9"
	ctx := tokenContext("access", "7010736057180325637")
	a, b := s.Seal(token, ctx), s.Seal(token, ctx)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same token are equal: the nonce is not random")
	}
	if a[0] != keyVersion {
		t.Fatalf("first byte %d, want key version %d", a[0], keyVersion)
	}
	if bytes.Contains(a, []byte(token)) || bytes.Contains(a, []byte(token[:16])) {
		t.Fatal("sealed value contains the token")
	}
	for _, sealed := range [][]byte{a, b} {
		got, err := s.Open(sealed, ctx)
		if err != nil || got != token {
			t.Fatalf("Open = %q, %v; want the token", got, err)
		}
	}
	empty := s.Seal("", ctx)
	if got, err := s.Open(empty, ctx); err != nil || got != "" {
		t.Fatalf("empty token: %q, %v", got, err)
	}
}

func TestSealerRefusesWhatItDidNotSeal(t *testing.T) {
	key := newKey(t)
	s, _ := NewSealer(key)
	const token = "secret-access-token-123"
	ctx := tokenContext("access", "seller1")
	sealed := s.Seal(token, ctx)

	other, _ := NewSealer(newKey(t))
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	newerVersion := bytes.Clone(sealed)
	newerVersion[0] = keyVersion + 1

	cases := map[string]func() (string, error){
		"wrong key":            func() (string, error) { return other.Open(sealed, ctx) },
		"other seller":         func() (string, error) { return s.Open(sealed, tokenContext("access", "seller2")) },
		"refresh column":       func() (string, error) { return s.Open(sealed, tokenContext("refresh", "seller1")) },
		"one bit flipped":      func() (string, error) { return s.Open(tampered, ctx) },
		"unknown key version":  func() (string, error) { return s.Open(newerVersion, ctx) },
		"truncated":            func() (string, error) { return s.Open(sealed[:10], ctx) },
		"nothing stored":       func() (string, error) { return s.Open(nil, ctx) },
		"plain text in column": func() (string, error) { return s.Open([]byte(token), ctx) },
	}
	for name, open := range cases {
		got, err := open()
		if !errors.Is(err, ErrTokenUndecryptable) {
			t.Errorf("%s: Open = %q, %v; want ErrTokenUndecryptable", name, got, err)
			continue
		}
		if got != "" || strings.Contains(err.Error(), token) || strings.Contains(err.Error(), string(key)) {
			t.Errorf("%s: the failure shows the token or key: %q, %v", name, got, err)
		}
	}
	if _, err := s.Open(newerVersion, ctx); err == nil || !strings.Contains(err.Error(), "key version 2") {
		t.Errorf("unknown version error does not name it: %v", err)
	}
}

func TestNewSealerNeeds32Bytes(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer with %d bytes succeeded", n)
		}
	}
}
