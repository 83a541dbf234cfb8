package sapb1sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// body is a decoded request body, checked against the entity's properties.
type body struct {
	values map[string]any     // writable properties, converted for their columns (nil = JSON null)
	ro     map[string]any     // read-only properties: ignored by SAP, kept for keys like LineNum
	colls  map[string][]*body // collections (DocumentLines ...)
	order  []string           // property names in the order sent
}

func (b *body) has(name string) bool {
	_, ok := b.values[name]
	return ok
}

// decodeBody parses a JSON object for entity e. Property names match
// without regard to case (SAP's own $batch sample sends "cardcode"); an
// unknown property is SAP's -1000 "Property 'X' of 'Document' is invalid";
// read-only properties are accepted and ignored, as SAP does.
func (s *Server) decodeBody(raw []byte, e *entity) (*body, *slError) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, errQuery("Invalid request body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errQuery("Invalid request body: data after the JSON object")
	}
	if obj == nil {
		return nil, errQuery("Invalid request body: expected a JSON object")
	}
	return s.decodeObject(obj, e, raw)
}

func (s *Server) decodeObject(obj map[string]any, e *entity, raw []byte) (*body, *slError) {
	b := &body{values: map[string]any{}, ro: map[string]any{}, colls: map[string][]*body{}}
	fields := s.fieldsOf(e)
	seen := map[string]bool{}
	for _, key := range orderedKeys(obj, raw) {
		v := obj[key]
		var f *field
		for _, c := range fields {
			if strings.EqualFold(c.name, key) {
				f = c
				break
			}
		}
		if f == nil {
			if strings.HasPrefix(key, "odata.") || strings.HasSuffix(key, "@odata.etag") {
				continue // annotations a client echoes back
			}
			return nil, errProperty(key, e.typ)
		}
		if seen[f.name] {
			return nil, errQuery("Property '%s' of '%s' is given twice", f.name, e.typ)
		}
		seen[f.name] = true
		b.order = append(b.order, f.name)
		if f.kind == kColl {
			if v == nil {
				b.colls[f.name] = []*body{}
				continue
			}
			list, ok := v.([]any)
			if !ok {
				return nil, errQuery("Property '%s' of '%s' must be a collection", f.name, e.typ)
			}
			children := []*body{}
			for _, item := range list {
				m, ok := item.(map[string]any)
				if !ok {
					return nil, errQuery("Property '%s' of '%s' must be a collection of objects", f.name, e.typ)
				}
				child, err := s.decodeObject(m, f.coll, nil)
				if err != nil {
					return nil, err
				}
				children = append(children, child)
			}
			b.colls[f.name] = children
			continue
		}
		val, err := f.parseValue(v, e.typ)
		if f.ro {
			if err == nil {
				b.ro[f.name] = val
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		b.values[f.name] = val
	}
	return b, nil
}

// orderedKeys returns obj's keys in the order they appear in raw when raw
// is the object's text, else sorted for determinism.
func orderedKeys(obj map[string]any, raw []byte) []string {
	keys := make([]string, 0, len(obj))
	if raw != nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		if t, err := dec.Token(); err == nil && t == json.Delim('{') {
			for dec.More() {
				t, err := dec.Token()
				if err != nil {
					break
				}
				if k, ok := t.(string); ok {
					keys = append(keys, k)
				}
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					break
				}
			}
		}
		if len(keys) == len(obj) {
			return keys
		}
		keys = keys[:0]
	}
	for k := range obj {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func noContent() *slResp { return &slResp{status: http.StatusNoContent, header: http.Header{}} }
