package config

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

const (
	redacted   = "[redacted]"
	unset      = "[unset]"
	maskedPass = "xxxxx"
)

// Secret holds a sensitive value such as a password. Every way of printing it
// (fmt verbs, JSON, text marshalling, slog) shows "[redacted]", or "[unset]"
// when empty; only Reveal returns the value.
//
// The value sits behind a pointer so that even reflection-based printing of a
// struct that holds a Secret in an unexported field shows an address, not the
// value. Compare secrets with Reveal, not ==.
type Secret struct {
	value *string
}

// NewSecret wraps value in a Secret.
func NewSecret(value string) Secret {
	return Secret{value: &value}
}

// Reveal returns the secret value. Pass it only to the code that needs it
// (a driver, an HTTP client); never to a logger or an error.
func (s Secret) Reveal() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

// IsSet reports whether the secret holds a non-empty value.
func (s Secret) IsSet() bool {
	return s.Reveal() != ""
}

// String returns "[redacted]", or "[unset]" for an empty secret.
func (s Secret) String() string {
	if !s.IsSet() {
		return unset
	}
	return redacted
}

// GoString returns the same as String, for %#v.
func (s Secret) GoString() string {
	return s.String()
}

// Format prints the same as String for every verb; %q quotes it.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = io.WriteString(f, strconv.Quote(s.String()))
		return
	}
	_, _ = io.WriteString(f, s.String())
}

// MarshalJSON encodes the secret as the JSON string "[redacted]" or "[unset]".
func (s Secret) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(s.String())), nil
}

// MarshalText returns "[redacted]" or "[unset]".
func (s Secret) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// LogValue makes slog print "[redacted]" or "[unset]".
func (s Secret) LogValue() slog.Value {
	return slog.StringValue(s.String())
}

var (
	// keyValuePassword matches password=... (and sslpassword=...) in a
	// key=value connection string; the value may be single-quoted.
	keyValuePassword = regexp.MustCompile(`(?i)(^|[\s;])((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)`)
	// queryPassword matches password=... (and sslpassword=...) in a URL query.
	queryPassword = regexp.MustCompile(`(?i)(^|[?&])((?:ssl)?password=)[^&#]*`)
)

// RedactURL returns s with any password replaced by xxxxx, for log lines such
// as "connected to postgres://app:xxxxx@db:5432/tiktokb1". It handles URLs
// (user:password@ and ?password= / ?sslpassword=) and key=value connection
// strings (password=... and password='...'). When a URL cannot be parsed
// reliably it errs on the side of hiding too much.
func RedactURL(s string) string {
	if !strings.Contains(s, "://") {
		return keyValuePassword.ReplaceAllString(s, "${1}${2}"+maskedPass)
	}
	u, err := url.Parse(s)
	if err == nil && (u.User != nil || !strings.Contains(s, "@")) {
		if u.User != nil {
			if _, hasPassword := u.User.Password(); hasPassword {
				u.User = url.UserPassword(u.User.Username(), maskedPass)
			}
		}
		u.RawQuery = queryPassword.ReplaceAllString(u.RawQuery, "${1}${2}"+maskedPass)
		return u.String()
	}
	// Unparsable, or an '@' that net/url did not read as user info (for
	// example a password holding '#', '/' or '?'): hide everything between
	// the user name and the last '@'.
	i := strings.Index(s, "://") + len("://")
	out := s
	if at := strings.LastIndex(s[i:], "@"); at >= 0 {
		userinfo := s[i : i+at]
		if colon := strings.Index(userinfo, ":"); colon >= 0 {
			out = s[:i] + userinfo[:colon] + ":" + maskedPass + s[i+at:]
		}
	}
	return queryPassword.ReplaceAllString(out, "${1}${2}"+maskedPass)
}
