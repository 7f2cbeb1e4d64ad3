package stix

import (
	"encoding/json"
	"errors"
)

// This file holds the fast paths of Parse. Decode runs once per imported
// object, and encoding/json's reflection, its second scan for Compact and a
// json.Unmarshal per common property were most of its cost. Here the object
// is compacted by a plain byte loop, validated once by json.Valid, and split
// into its top-level properties without copying them.

// errMergedTokens reports whitespace between two scalars ("1 2", "tr ue"):
// removing it would turn invalid JSON into valid JSON, so it is refused.
var errMergedTokens = errors.New("invalid JSON: whitespace between two values")

// compactJSON returns a compacted copy of b: JSON whitespace outside strings
// removed. It does not validate; callers run json.Valid on the result, which
// is equivalent to validating b because whitespace that would join two
// tokens is refused here.
func compactJSON(b []byte) ([]byte, error) {
	out := make([]byte, 0, len(b))
	inStr, esc, skipped := false, false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			out = append(out, c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			skipped = true
			continue
		case '"':
			inStr = true
		}
		if skipped && len(out) > 0 && scalarByte(out[len(out)-1]) && scalarByte(c) {
			return nil, errMergedTokens
		}
		skipped = false
		out = append(out, c)
	}
	return out, nil
}

func scalarByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '+' || c == '-'
}

// splitObject splits a compact, valid JSON object into its properties. The
// values are sub-slices of b (capacity-limited, so appending to one cannot
// overwrite its neighbour). As with json.Unmarshal, a repeated key keeps its
// last value.
func splitObject(b []byte) (map[string]json.RawMessage, error) {
	props := make(map[string]json.RawMessage, 16)
	i := 1
	if b[i] == '}' {
		return props, nil
	}
	for {
		kEnd := skipString(b, i)
		key, err := jsonString(b[i:kEnd])
		if err != nil {
			return nil, err
		}
		i = kEnd + 1 // ':'
		vEnd := skipValue(b, i)
		props[key] = json.RawMessage(b[i:vEnd:vEnd])
		i = vEnd
		if b[i] == '}' {
			return props, nil
		}
		i++ // ','
	}
}

// skipString returns the index after the string that starts at b[i] == '"'.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the compact value starting at b[i].
// Nesting is counted, not recursed into, so depth cannot exhaust the stack.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
			j++
		}
		return j
	}
}

// unquoteFast decodes a JSON string without escapes or non-ASCII bytes, the
// common case for identifiers, types and timestamps.
func unquoteFast(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	s := v[1 : len(v)-1]
	for _, c := range s {
		if c == '\\' || c == '"' || c < 0x20 || c >= 0x80 {
			return "", false
		}
	}
	return string(s), true
}

// jsonString decodes a JSON string value; null gives "" as encoding/json does.
func jsonString(v []byte) (string, error) {
	if s, ok := unquoteFast(v); ok {
		return s, nil
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}

// jsonStrings decodes a list of strings; null gives nil.
func jsonStrings(v []byte) ([]string, error) {
	if len(v) >= 2 && v[0] == '[' && v[len(v)-1] == ']' {
		if len(v) == 2 {
			return []string{}, nil
		}
		var out []string
		i := 1
		for i < len(v) && v[i] == '"' {
			end := skipString(v, i)
			s, ok := unquoteFast(v[i:end])
			if !ok || end >= len(v) || (v[end] != ',' && v[end] != ']') {
				break
			}
			out = append(out, s)
			if v[end] == ']' {
				if end == len(v)-1 {
					return out, nil
				}
				break
			}
			i = end + 1
		}
	}
	var out []string
	err := json.Unmarshal(v, &out)
	return out, err
}
