package shops

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// keyVersion is the first byte of every sealed token: which key sealed it.
// Rotation adds a second version; Open then picks the key by this byte.
const keyVersion byte = 1

// ErrTokenUndecryptable is returned when a stored token cannot be opened.
var ErrTokenUndecryptable = errors.New("shops: a stored TikTok token cannot be decrypted: TIKTOKB1_TOKEN_KEY is not the key it was encrypted with, or the stored value is damaged")

// Sealer encrypts tokens for storage with AES-256-GCM: a random nonce per
// value, and the token's owner and kind as additional data, so a ciphertext
// copied to another row or column does not open. Its errors never hold token
// text.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte key (config.TikTok.TokenKey).
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("shops: the token key has %d bytes; AES-256 needs 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("shops: token key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("shops: token key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns keyVersion, nonce and ciphertext of token, bound to context
// (e.g. tokenContext("access", openID)).
func (s *Sealer) Seal(token, context string) []byte {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(token)+s.aead.Overhead())
	out[0] = keyVersion
	if _, err := rand.Read(out[1 : 1+ns]); err != nil {
		panic("shops: no randomness for a nonce: " + err.Error()) // crypto/rand never fails on supported systems
	}
	return s.aead.Seal(out, out[1:1+ns], []byte(token), []byte(context))
}

// Open returns the token sealed with the same context.
func (s *Sealer) Open(sealed []byte, context string) (string, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() {
		return "", fmt.Errorf("%w (too short to be a sealed token)", ErrTokenUndecryptable)
	}
	if sealed[0] != keyVersion {
		return "", fmt.Errorf("%w (sealed with key version %d; this build knows version %d)", ErrTokenUndecryptable, sealed[0], keyVersion)
	}
	plain, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], []byte(context))
	if err != nil {
		return "", ErrTokenUndecryptable
	}
	return string(plain), nil
}

// tokenContext is the additional data a token is sealed with: its kind
// (access or refresh) and the authorisation it belongs to.
func tokenContext(kind, openID string) string {
	return "tiktokb1 tiktok " + kind + " token\x00" + openID
}
