package sigma

import (
	"strings"
)

// MapEvent is an Event over decoded JSON (map[string]any, as encoding/json
// produces). Field paths are dotted; a key containing dots is found as is
// before the path is split. Keys are looked up exactly first, then ignoring
// case, because JSON exporters disagree on case (commandline, CommandLine)
// while Sigma backends treat field names as case-insensitive in practice.
// Values of the form {"#text": v, "#attributes": ...} (evtx_dump's XML
// elements with attributes) stand for v.
type MapEvent map[string]any

// maxPathDepth bounds how deep a dotted path may descend.
const maxPathDepth = 32

// Field implements Event.
func (m MapEvent) Field(path string) (any, bool) {
	v, ok := lookup(map[string]any(m), path, 0)
	if !ok {
		return nil, false
	}
	if mm, isMap := v.(map[string]any); isMap {
		if t, ok := mm["#text"]; ok {
			return t, true
		}
	}
	return v, true
}

func getKey(m map[string]any, k string) (any, bool) {
	if v, ok := m[k]; ok {
		return v, true
	}
	for key, v := range m {
		if strings.EqualFold(key, k) {
			return v, true
		}
	}
	return nil, false
}

func lookup(m map[string]any, path string, depth int) (any, bool) {
	if v, ok := getKey(m, path); ok {
		return v, true
	}
	if depth >= maxPathDepth {
		return nil, false
	}
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		v, ok := getKey(m, path[:i])
		if !ok {
			continue
		}
		if sub, isMap := v.(map[string]any); isMap {
			if x, ok := lookup(sub, path[i+1:], depth+1); ok {
				return x, true
			}
		}
	}
	return nil, false
}

// Keywords implements Event: every string value, depth first.
func (m MapEvent) Keywords(fn func(string) bool) bool {
	return walkStrings(map[string]any(m), fn, 0)
}

func walkStrings(v any, fn func(string) bool, depth int) bool {
	if depth > maxPathDepth {
		return false
	}
	switch t := v.(type) {
	case string:
		return fn(t)
	case map[string]any:
		for _, x := range t {
			if walkStrings(x, fn, depth+1) {
				return true
			}
		}
	case []any:
		for _, x := range t {
			if walkStrings(x, fn, depth+1) {
				return true
			}
		}
	}
	return false
}
