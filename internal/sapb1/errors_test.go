package sapb1

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// Both envelopes decode into the same typed errors (v2 from recorded bodies).
func TestErrorEnvelopes(t *testing.T) {
	cases := []struct {
		file      string
		status    int
		is        error
		code      int
		text      string
		retryable bool
	}{
		{"error-v1-not-found.json", 404, ErrNotFound, -2028, "No matching records found", false},
		{"error-v2-changed.json", 412, ErrChanged, -2039, "Another user or another operation modified data", true},
		{"error-v2-details.json", 400, ErrBusinessRule, -10, "Quantity falls into negative inventory", false},
		{"error-v1-session.json", 401, ErrSession, 301, "Invalid session", true},
		{"error-v2-duplicate.json", 400, ErrDuplicate, -2035, "already exists", false},
	}
	for _, c := range cases {
		body, err := os.ReadFile("testdata/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		e, ok := parseError("op", c.status, body)
		if !ok {
			t.Fatalf("%s: not recognised as SAP's envelope", c.file)
		}
		if e.Code != c.code || !strings.Contains(e.Message, c.text) {
			t.Errorf("%s: code %d message %q", c.file, e.Code, e.Message)
		}
		if !errors.Is(e, c.is) {
			t.Errorf("%s: %v is not %v", c.file, e, c.is)
		}
		if e.Retryable() != c.retryable {
			t.Errorf("%s: Retryable() = %v, want %v", c.file, e.Retryable(), c.retryable)
		}
	}
	// The details of a v2 error reach the message a person reads.
	body, _ := os.ReadFile("testdata/error-v2-details.json")
	e, _ := parseError("op", 400, body)
	if !strings.Contains(e.Message, "Item A1 in warehouse 01") {
		t.Errorf("details lost: %q", e.Message)
	}
}

func TestNonEnvelopesAreNotErrors(t *testing.T) {
	for _, body := range []string{``, `<html>502 Proxy Error</html>`, `{"value":[]}`, `{"error":{"code":"x","message":"m"}}`} {
		if _, ok := parseError("op", 500, []byte(body)); ok {
			t.Errorf("%q parsed as SAP's envelope", body)
		}
	}
}

func FuzzParseError(f *testing.F) {
	for _, name := range []string{"error-v1-not-found.json", "error-v2-changed.json", "error-v2-details.json"} {
		b, _ := os.ReadFile("testdata/" + name)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if e, ok := parseError("op", 400, body); ok && e == nil {
			t.Fatal("ok without an error")
		}
	})
}
