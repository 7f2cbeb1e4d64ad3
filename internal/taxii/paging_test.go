package taxii

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// TestPaging pages 2,500 objects, all with the same modified instant, seven
// at a time, through next and through added_after with the -Last header:
// each way yields every object once, in date_added order, and never more
// than limit per page.
func TestPaging(t *testing.T) {
	hb := newHub(t, Options{})
	hb.org("alpha", stix.TLPGreen, false)
	hb.coll("big", stix.TLPGreen, false)
	hb.grant("alpha", "big", true, false)
	var want []string
	for b := range 25 {
		var batch []string
		for range 100 {
			id := newID("indicator")
			batch = append(batch, indicator(id, 7, "", nil, nil))
			want = append(want, id+"@"+ts(7))
		}
		_ = b
		hb.put("big", batch...)
	}
	base := collPath(hb, "big", "objects/?limit=7")
	manifestBase := collPath(hb, "big", "manifest/?limit=7")

	type pageFn func(after, next string) (ids []string, more bool, nextTok, first, last string)
	objects := func(after, next string) ([]string, bool, string, string, string) {
		p := base
		if after != "" {
			p += "&added_after=" + url.QueryEscape(after)
		}
		if next != "" {
			p += "&next=" + url.QueryEscape(next)
		}
		r := hb.get(p, "alpha")
		if r.code != 200 {
			t.Fatalf("%s: %d %s", p, r.code, r.body)
		}
		var env envelope
		r.json(t, &env)
		more := env.More != nil && *env.More
		return objIDs(t, env.Objects), more, env.Next, r.h.Get("X-TAXII-Date-Added-First"), r.h.Get("X-TAXII-Date-Added-Last")
	}
	manifest := func(after, next string) ([]string, bool, string, string, string) {
		p := manifestBase
		if after != "" {
			p += "&added_after=" + url.QueryEscape(after)
		}
		if next != "" {
			p += "&next=" + url.QueryEscape(next)
		}
		r := hb.get(p, "alpha")
		if r.code != 200 {
			t.Fatalf("%s: %d %s", p, r.code, r.body)
		}
		var m struct {
			More    bool
			Next    string
			Objects []struct {
				ID        string `json:"id"`
				Version   string `json:"version"`
				DateAdded string `json:"date_added"`
			}
		}
		r.json(t, &m)
		var ids []string
		for i, e := range m.Objects {
			ids = append(ids, e.ID+"@"+e.Version)
			if i > 0 && e.DateAdded <= m.Objects[i-1].DateAdded {
				t.Fatalf("manifest not sorted by date_added: %s", r.body)
			}
		}
		return ids, m.More, m.Next, r.h.Get("X-TAXII-Date-Added-First"), r.h.Get("X-TAXII-Date-Added-Last")
	}
	for name, fn := range map[string]pageFn{"objects": objects, "manifest": manifest} {
		for _, mode := range []string{"next", "added_after"} {
			var got []string
			after, next := "", ""
			prevLast := ""
			for pages := 0; ; pages++ {
				if pages > 400 {
					t.Fatalf("%s by %s: no end after %d pages", name, mode, pages)
				}
				ids, more, nt, first, last := fn(after, next)
				if len(ids) > 7 {
					t.Fatalf("%s by %s: page of %d", name, mode, len(ids))
				}
				if len(ids) > 0 && (first == "" || last == "" || first > last || first <= prevLast) {
					t.Fatalf("%s by %s: headers %q %q after %q", name, mode, first, last, prevLast)
				}
				got = append(got, ids...)
				if !more {
					break
				}
				if mode == "next" {
					if nt == "" {
						t.Fatalf("%s: more without next", name)
					}
					next = nt
				} else {
					after = last
				}
				prevLast = last
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s by %s: %d objects, want %d (first diff at %d)", name, mode, len(got), len(want), firstDiff(got, want))
			}
		}
	}
	// added_after is strictly after: the object added at that instant is
	// not returned again.
	r := hb.get(collPath(hb, "big", "objects/?limit=1"), "alpha")
	var env envelope
	r.json(t, &env)
	last := r.h.Get("X-TAXII-Date-Added-Last")
	r = hb.get(collPath(hb, "big", "objects/?limit=1&added_after="+url.QueryEscape(last)), "alpha")
	var env2 envelope
	r.json(t, &env2)
	if objIDs(t, env2.Objects)[0] != want[1] || r.h.Get("X-TAXII-Date-Added-First") <= last {
		t.Errorf("added_after %s returned %v", last, objIDs(t, env2.Objects))
	}
	// Past the end: an empty envelope, no date headers.
	r = hb.get(collPath(hb, "big", "objects/?added_after=2999-01-01T00:00:00.000000Z"), "alpha")
	if r.code != 200 || string(r.body) != "{}" || r.h.Get("X-TAXII-Date-Added-First") != "" {
		t.Errorf("empty page: %d %s %v", r.code, r.body, r.h)
	}
	// The server maximum caps limit.
	hb2 := &hub{t: t, h: New(hb.svc, Options{MaxPageSize: 50}), tokens: hb.tokens}
	r = hb2.get(collPath(hb, "big", "objects/?limit=1000"), "alpha")
	var env3 envelope
	_ = json.Unmarshal(r.body, &env3)
	if len(env3.Objects) != 50 || !*env3.More {
		t.Errorf("capped page: %d objects", len(env3.Objects))
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
