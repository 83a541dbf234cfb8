package tiktok

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// FlexString is an id TikTok sends as a JSON string or a JSON number (the
// same field differs between event types and samples). Numbers are kept as
// their exact digits: an 18–19 digit id never passes through a float.
type FlexString string

func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = FlexString(s)
	default:
		var n json.Number
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&n); err != nil || !wholeNumber(n.String()) {
			return fmt.Errorf("id %s is neither a string nor a whole number", truncate(b, 40))
		}
		*f = FlexString(n.String())
	}
	return nil
}

// FlexInt is a whole number (a unix time, a type) sent as a number or a
// numeric string.
type FlexInt int64

func (f *FlexInt) UnmarshalJSON(b []byte) error {
	var s FlexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*f = 0
		return nil
	}
	n, err := json.Number(s).Int64()
	if err != nil {
		return fmt.Errorf("%q is not a whole number", string(s))
	}
	*f = FlexInt(n)
	return nil
}

func wholeNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
