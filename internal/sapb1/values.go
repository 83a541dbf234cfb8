package sapb1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// Num is an exact decimal written as a JSON number: money and quantities go
// to SAP as exact number text, never through a float (DESIGN invariant 7).
type Num struct{ decimal.Decimal }

// N returns s as a Num; it panics on malformed input (for literals).
func N(s string) Num { return Num{decimal.RequireFromString(s)} }

func (n Num) MarshalJSON() ([]byte, error) { return []byte(n.Decimal.String()), nil }

func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		n.Decimal = decimal.Zero
		return nil
	}
	return n.Decimal.UnmarshalJSON(b)
}

// UDFs holds user-defined fields (U_*) beside an entity's own fields.
type UDFs map[string]any

// marshalWithUDFs encodes v (a struct alias without methods) and adds the
// U_ fields.
func marshalWithUDFs(v any, udfs UDFs) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(udfs) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, val := range udfs {
		if !strings.HasPrefix(k, "U_") {
			return nil, fmt.Errorf("sapb1: user field %q must start with U_", k)
		}
		raw, err := json.Marshal(val)
		if err != nil {
			return nil, err
		}
		m[k] = raw
	}
	return json.Marshal(m)
}

// unmarshalWithUDFs decodes b into v and collects the U_ fields.
func unmarshalWithUDFs(b []byte, v any) (UDFs, error) {
	if err := json.Unmarshal(b, v); err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	var udfs UDFs
	for k, raw := range m {
		if !strings.HasPrefix(k, "U_") {
			continue
		}
		if udfs == nil {
			udfs = UDFs{}
		}
		var val any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		udfs[k] = val
	}
	return udfs, nil
}

// String returns a UDF as text (SAP's alphanumeric fields), "" when unset.
func (u UDFs) String(name string) string {
	switch v := u[name].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}
