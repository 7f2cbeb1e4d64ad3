package taxii

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// The adversarial access suite. Several organisations with different
// clearances and grants, objects at every TLP (1.0 and 2.0 markings,
// unmarked, RED with and without recipients, several versions with
// different markings, one object in two collections with different
// defaults), and every endpoint and parameter combination: what each
// viewer receives is compared with a visible set computed here, from the
// policy of ARCHITECTURE.md, independently of internal/access.

// tlpOf is the test's own reading of the marking ids (not stix's table).
var tlpOf = map[string]stix.TLP{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": stix.TLPClear, // 1.0 white
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": stix.TLPGreen,
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": stix.TLPAmber,
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": stix.TLPRed,
	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": stix.TLPClear, // 2.0
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": stix.TLPGreen,
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": stix.TLPAmber,
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": stix.TLPAmberStrict,
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": stix.TLPRed,
}

// viewer is who asks in the suite: an org name, or "" for anonymous.
type viewerSpec struct {
	name      string
	clearance stix.TLP
	admin     bool
}

type collSpec struct {
	title  string
	def    stix.TLP
	public bool
	grants map[string][2]bool // org → read, write
}

// orec is one stored version as the oracle knows it.
type orec struct {
	id, version string
	typ         string
	ver         time.Time
	added       time.Time
	tlp         stix.TLP // from markings; TLPNone when unmarked
	createdBy   string
	recipients  []string
	raw         string
}

type accessFixture struct {
	hb      *hub
	viewers []viewerSpec
	colls   []collSpec
	recs    map[string][]orec // collection title → records by date_added
}

var suiteViewers = []viewerSpec{
	{name: ""}, // anonymous
	{name: "green", clearance: stix.TLPGreen},
	{name: "amber", clearance: stix.TLPAmber},
	{name: "strict", clearance: stix.TLPAmberStrict},
	{name: "red", clearance: stix.TLPRed},
	{name: "root", clearance: stix.TLPRed, admin: true},
}

var suiteColls = []collSpec{
	{title: "sharing", def: stix.TLPAmber, grants: map[string][2]bool{"green": {true, false}, "amber": {true, true}, "red": {true, false}, "strict": {true, false}}},
	{title: "public", def: stix.TLPClear, public: true, grants: map[string][2]bool{"amber": {true, false}, "red": {false, true}}},
	{title: "redroom", def: stix.TLPRed, grants: map[string][2]bool{"red": {true, true}, "strict": {true, false}, "amber": {false, true}}},
	{title: "greenonly", def: stix.TLPGreen, grants: map[string][2]bool{"green": {true, true}, "amber": {false, true}}},
}

func newAccessFixture(t *testing.T) *accessFixture {
	hb := newHub(t, Options{})
	f := &accessFixture{hb: hb, viewers: suiteViewers, colls: suiteColls, recs: map[string][]orec{}}
	for _, v := range f.viewers {
		if v.name != "" {
			hb.org(v.name, v.clearance, v.admin)
		}
	}
	for _, c := range f.colls {
		hb.coll(c.title, c.def, c.public)
		for org, g := range c.grants {
			hb.grant(org, c.title, g[0], g[1])
		}
	}
	ident := func(org string) string { return hb.orgs[org].Identity }
	markings := [][]string{
		nil,
		{stix.TLP1White}, {stix.TLP1Green}, {stix.TLP1Amber}, {stix.TLP1Red},
		{stix.TLP2Clear}, {stix.TLP2Green}, {stix.TLP2Amber}, {stix.TLP2AmberStrict}, {stix.TLP2Red},
		{stix.TLP2Green, stix.TLP1Amber}, {stix.TLP2Clear, stix.TLP2AmberStrict},
	}
	creators := []string{"", "green", "amber", "red", "strict"}
	recipientSets := [][]string{nil, {"amber"}, {"green", "red"}, {"strict"}}
	rnd := rand.New(rand.NewSource(7))
	shared := newID("indicator") // stored in two collections
	for ci, c := range f.colls {
		var objs []string
		for k := range 14 {
			id := newID([]string{"indicator", "malware"}[k%2])
			nvers := 1 + k%3
			for v := range nvers {
				m := markings[(k*5+v*7+ci)%len(markings)]
				if k == 0 && v == 0 {
					m = []string{stix.TLP2Red} // a RED first version
				}
				by := creators[(k+v+ci)%len(creators)]
				extra := map[string]any{}
				if rs := recipientSets[(k+ci+v)%len(recipientSets)]; len(rs) > 0 {
					var ids []string
					for _, r := range rs {
						ids = append(ids, ident(r))
					}
					extra["x_bulwark_recipients"] = ids
				}
				byID := ""
				if by != "" {
					byID = ident(by)
				}
				if strings.HasPrefix(id, "malware") {
					// Malware has no created_by in these fixtures, so RED
					// malware reaches only recipients.
					mw := map[string]any{}
					_ = json.Unmarshal([]byte(malware(id, 10+v, m)), &mw)
					for k, x := range extra {
						mw[k] = x
					}
					b, _ := json.Marshal(mw)
					objs = append(objs, string(b))
				} else {
					objs = append(objs, indicator(id, 10+v, byID, m, extra))
				}
			}
		}
		objs = append(objs, indicator(shared, 3, "", nil, nil))
		rnd.Shuffle(len(objs), func(i, j int) { objs[i], objs[j] = objs[j], objs[i] })
		// A few batches, so date_added interleaves versions.
		for len(objs) > 0 {
			n := min(len(objs), 1+rnd.Intn(5))
			hb.put(c.title, objs[:n]...)
			objs = objs[n:]
		}
	}
	f.reload(t)
	return f
}

// reload reads every stored version of every collection straight from the
// store (the oracle's raw material: date_added, markings, creators).
func (f *accessFixture) reload(t *testing.T) {
	t.Helper()
	for _, c := range f.colls {
		p, err := f.hb.st.Query(ctx, store.Query{Collection: f.hb.colls[c.title].ID, Versions: store.Versions{Mode: store.All}, Limit: store.MaxLimit})
		if err != nil || p.More {
			t.Fatal(err, p.More)
		}
		var rs []orec
		for _, r := range p.Records {
			o := r.Object
			tl := stix.TLPNone
			for _, m := range o.ObjectMarkingRefs {
				if l, ok := tlpOf[m]; ok && l > tl {
					tl = l
				}
			}
			rs = append(rs, orec{
				id: o.ID, version: o.VersionString(), typ: o.Type, ver: r.Version, added: r.DateAdded,
				tlp: tl, createdBy: o.CreatedByRef, recipients: o.Strings("x_bulwark_recipients"), raw: string(o.Raw),
			})
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].added.Before(rs[j].added) })
		f.recs[c.title] = rs
	}
}

// mayRead and limit: the policy, restated.
func (f *accessFixture) access(v viewerSpec, c collSpec) (read, write bool, limit stix.TLP) {
	switch {
	case v.name == "":
		if c.public {
			return true, false, stix.TLPClear
		}
		return false, false, stix.TLPNone
	case v.admin:
		return true, true, stix.TLPRed
	}
	g := c.grants[v.name]
	switch {
	case g[0]:
		return true, g[1], v.clearance
	case c.public:
		return true, g[1], stix.TLPClear
	}
	return false, g[1], stix.TLPNone
}

func (f *accessFixture) visible(v viewerSpec, c collSpec, r orec) bool {
	read, _, limit := f.access(v, c)
	if !read {
		return false
	}
	eff := r.tlp
	if eff == stix.TLPNone {
		eff = c.def
	}
	if eff > limit {
		return false
	}
	if eff == stix.TLPRed && !v.admin {
		me := f.hb.orgs[v.name].Identity
		return r.createdBy == me || slices.Contains(r.recipients, me)
	}
	return true
}

// query is one filter combination, as the oracle applies it.
type query struct {
	ids, types   []string
	version      string // "" = last
	addedAfter   time.Time
	limit        int
	specVersions []string
}

func (q query) params(withIDAndType bool) url.Values {
	p := url.Values{}
	if withIDAndType && len(q.ids) > 0 {
		p.Set("match[id]", strings.Join(q.ids, ","))
	}
	if withIDAndType && len(q.types) > 0 {
		p.Set("match[type]", strings.Join(q.types, ","))
	}
	if q.version != "" {
		p.Set("match[version]", q.version)
	}
	if len(q.specVersions) > 0 {
		p.Set("match[spec_version]", strings.Join(q.specVersions, ","))
	}
	if !q.addedAfter.IsZero() {
		p.Set("added_after", stix.FormatTAXII(q.addedAfter))
	}
	if q.limit > 0 {
		p.Set("limit", fmt.Sprint(q.limit))
	}
	return p
}

// expect is what the viewer must receive for a query, in date_added order.
// first and last are judged among the collection's versions of an id (a
// hidden newer version hides the older ones from a "last" query; it never
// promotes an older version to "latest").
func (f *accessFixture) expect(v viewerSpec, c collSpec, q query) []orec {
	all := f.recs[c.title]
	firstV, lastV := map[string]time.Time{}, map[string]time.Time{}
	for _, r := range all {
		if t, ok := firstV[r.id]; !ok || r.ver.Before(t) {
			firstV[r.id] = r.ver
		}
		if t, ok := lastV[r.id]; !ok || r.ver.After(t) {
			lastV[r.id] = r.ver
		}
	}
	var out []orec
	for _, r := range all {
		if !f.visible(v, c, r) {
			continue
		}
		if len(q.ids) > 0 && !slices.Contains(q.ids, r.id) || len(q.types) > 0 && !slices.Contains(q.types, r.typ) {
			continue
		}
		if len(q.specVersions) > 0 && !slices.Contains(q.specVersions, "2.1") {
			continue
		}
		if !q.addedAfter.IsZero() && !r.added.After(q.addedAfter) {
			continue
		}
		ok := false
		sel := q.version
		if sel == "" {
			sel = "last"
		}
		for _, s := range strings.Split(sel, ",") {
			switch s {
			case "all":
				ok = true
			case "first":
				ok = ok || r.ver.Equal(firstV[r.id])
			case "last":
				ok = ok || r.ver.Equal(lastV[r.id])
			default:
				at, _ := stix.ParseTimestamp(s)
				ok = ok || r.ver.Equal(at)
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

func (f *accessFixture) auth(v viewerSpec) string { return v.name }

// pageAll pages an endpoint with next until more is false, checking every
// page against the expected records: size, order, content, headers.
func (f *accessFixture) pageAll(t *testing.T, v viewerSpec, c collSpec, endpoint string, q query, want []orec) {
	t.Helper()
	base := collPath(f.hb, c.title, endpoint)
	withIDType := endpoint == "objects/" || endpoint == "manifest/"
	params := q.params(withIDType)
	pos := 0
	for pages := 0; ; pages++ {
		if pages > len(want)+2 {
			t.Fatalf("%s %s %s: paging does not end", v.name, base, params.Encode())
		}
		r := f.hb.get(base+"?"+params.Encode(), f.auth(v))
		ctxt := fmt.Sprintf("viewer %q %s %s?%s", v.name, c.title, endpoint, params.Encode())
		if len(want) == 0 && pos == 0 && q.addedAfter.IsZero() && !withIDType {
			if r.code != 404 {
				t.Fatalf("%s: %d %s, want 404", ctxt, r.code, r.body)
			}
			return
		}
		if r.code != 200 {
			t.Fatalf("%s: %d %s", ctxt, r.code, r.body)
		}
		var body struct {
			More     bool              `json:"more"`
			Next     string            `json:"next"`
			Objects  []json.RawMessage `json:"objects"`
			Versions []string          `json:"versions"`
		}
		r.json(t, &body)
		var got []string
		kind := endpoint
		if strings.HasSuffix(endpoint, "/versions/") {
			kind = "versions/"
		}
		switch kind {
		case "manifest/":
			for _, e := range body.Objects {
				var m map[string]string
				_ = json.Unmarshal(e, &m)
				got = append(got, m["id"]+"@"+m["version"]+"@"+m["date_added"])
			}
		case "versions/":
			got = body.Versions
		default:
			for _, o := range body.Objects {
				got = append(got, string(o))
			}
		}
		n := len(got)
		if q.limit > 0 && n > q.limit {
			t.Fatalf("%s: %d records over limit %d", ctxt, n, q.limit)
		}
		if pos+n > len(want) {
			t.Fatalf("%s: %d records past the %d visible:\n%s", ctxt, pos+n-len(want), len(want), r.body)
		}
		chunk := want[pos : pos+n]
		for i, g := range got {
			w := chunk[i]
			var exp string
			switch kind {
			case "manifest/":
				exp = w.id + "@" + w.version + "@" + stix.FormatTAXII(w.added)
			case "versions/":
				exp = w.version
			default:
				exp = w.raw
			}
			if g != exp {
				t.Fatalf("%s: record %d is\n%s\nwant\n%s", ctxt, pos+i, g, exp)
			}
		}
		fh, lh := r.h.Get("X-TAXII-Date-Added-First"), r.h.Get("X-TAXII-Date-Added-Last")
		if n == 0 {
			if fh != "" || lh != "" || len(r.body) != 2 {
				t.Fatalf("%s: empty page %s with headers %q %q", ctxt, r.body, fh, lh)
			}
		} else if fh != stix.FormatTAXII(chunk[0].added) || lh != stix.FormatTAXII(chunk[n-1].added) {
			t.Fatalf("%s: headers %q %q, want %s %s", ctxt, fh, lh, stix.FormatTAXII(chunk[0].added), stix.FormatTAXII(chunk[n-1].added))
		}
		pos += n
		if !body.More {
			if body.Next != "" {
				t.Fatalf("%s: next without more", ctxt)
			}
			break
		}
		if body.Next == "" || n == 0 {
			t.Fatalf("%s: more with %d records and next %q", ctxt, n, body.Next)
		}
		params.Set("next", body.Next)
	}
	if pos != len(want) {
		t.Fatalf("viewer %q %s %s: got %d of %d visible records", v.name, c.title, endpoint, pos, len(want))
	}
}

func TestAccessSuite(t *testing.T) {
	f := newAccessFixture(t)
	hb := f.hb
	for _, v := range f.viewers {
		// The collection list holds exactly what the viewer may read or write.
		r := hb.get(root+"collections/", f.auth(v))
		var list struct {
			Collections []collectionResource `json:"collections"`
		}
		r.json(t, &list)
		var got, want []string
		for _, c := range list.Collections {
			got = append(got, fmt.Sprintf("%s:%t:%t", c.Title, c.CanRead, c.CanWrite))
		}
		for _, c := range f.colls {
			if read, write, _ := f.access(v, c); read || write {
				want = append(want, fmt.Sprintf("%s:%t:%t", c.title, read, write))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("viewer %q collections %v, want %v", v.name, got, want)
		}

		for _, c := range f.colls {
			read, write, _ := f.access(v, c)
			if !read {
				want := 404
				if write {
					want = 403
				}
				for _, ep := range []string{"objects/", "manifest/", "objects/" + f.recs[c.title][0].id + "/", "objects/" + f.recs[c.title][0].id + "/versions/"} {
					if r := hb.get(collPath(hb, c.title, ep), f.auth(v)); r.code != want {
						t.Errorf("viewer %q %s %s: %d, want %d", v.name, c.title, ep, r.code, want)
					}
				}
				if r := hb.get(collPath(hb, c.title, ""), f.auth(v)); (r.code == 200) != write {
					t.Errorf("viewer %q collection %s: %d", v.name, c.title, r.code)
				}
				continue
			}
			ids := map[string]bool{}
			var someVersion string
			for _, r := range f.recs[c.title] {
				ids[r.id] = true
				someVersion = r.version
			}
			for _, version := range []string{"", "all", "first", "first,last", someVersion, "last," + someVersion} {
				for _, types := range [][]string{nil, {"indicator"}, {"malware", "indicator"}} {
					for _, limit := range []int{2, 0} {
						q := query{version: version, types: types, limit: limit}
						for _, ep := range []string{"objects/", "manifest/"} {
							f.pageAll(t, v, c, ep, q, f.expect(v, c, q))
						}
					}
				}
			}
			for id := range ids {
				for _, version := range []string{"", "all", "first"} {
					q := query{ids: []string{id}, version: version, limit: 1}
					f.pageAll(t, v, c, "objects/"+id+"/", q, f.expect(v, c, q))
				}
				q := query{ids: []string{id}, version: "all", limit: 1}
				f.pageAll(t, v, c, "objects/"+id+"/versions/", query{limit: 1}, f.expect(v, c, q))
			}
		}
	}
}

// TestAccessRandom is the property: for a few hundred random viewers,
// collections, endpoints and filters (fixed seed), every page holds only
// records the policy lets the viewer see, and paging yields all of them.
func TestAccessRandom(t *testing.T) {
	f := newAccessFixture(t)
	rnd := rand.New(rand.NewSource(20260601))
	for i := range 400 {
		v := f.viewers[rnd.Intn(len(f.viewers))]
		c := f.colls[rnd.Intn(len(f.colls))]
		read, _, _ := f.access(v, c)
		if !read {
			continue
		}
		all := f.recs[c.title]
		q := query{limit: rnd.Intn(6)}
		if rnd.Intn(3) == 0 {
			for range 1 + rnd.Intn(4) {
				q.ids = append(q.ids, all[rnd.Intn(len(all))].id)
			}
			slices.Sort(q.ids)
			q.ids = slices.Compact(q.ids)
		}
		if rnd.Intn(3) == 0 {
			q.types = []string{[]string{"indicator", "malware", "identity"}[rnd.Intn(3)]}
		}
		switch rnd.Intn(6) {
		case 0:
			q.version = "all"
		case 1:
			q.version = "first"
		case 2:
			q.version = "first,last"
		case 3:
			q.version = all[rnd.Intn(len(all))].version + ",first"
		}
		if rnd.Intn(3) == 0 {
			q.addedAfter = all[rnd.Intn(len(all))].added
		}
		if rnd.Intn(5) == 0 {
			q.specVersions = []string{[]string{"2.1", "2.0", "2.0,2.1"}[rnd.Intn(3)]}
			q.specVersions = strings.Split(q.specVersions[0], ",")
		}
		ep := []string{"objects/", "manifest/"}[rnd.Intn(2)]
		if rnd.Intn(4) == 0 {
			id := all[rnd.Intn(len(all))].id
			q.ids = []string{id}
			q.types = nil
			ep = "objects/" + id + "/"
		}
		f.pageAll(t, v, c, ep, q, f.expect(v, c, q))
		if t.Failed() {
			t.Fatalf("random query %d failed", i)
		}
	}
}

// TestAccessDelete: a writer deletes only the versions it can see; hidden
// versions of the same object stay for those who may see them.
func TestAccessDelete(t *testing.T) {
	hb := newHub(t, Options{})
	hb.org("amber", stix.TLPAmber, false)
	hb.org("red", stix.TLPRed, false)
	hb.coll("c", stix.TLPAmber, false)
	hb.grant("amber", "c", true, true)
	hb.grant("red", "c", true, true)
	id := newID("indicator")
	hb.put("c",
		indicator(id, 1, hb.orgs["amber"].Identity, []string{stix.TLP2Green}, nil),
		indicator(id, 2, hb.orgs["red"].Identity, []string{stix.TLP2Red}, nil),
		indicator(id, 3, hb.orgs["amber"].Identity, []string{stix.TLP2Amber}, nil),
	)
	if r := hb.do(req{method: http.MethodDelete, path: collPath(hb, "c", "objects/"+id+"/?match[version]=all"), auth: "amber"}); r.code != 200 {
		t.Fatalf("delete: %d %s", r.code, r.body)
	}
	r := hb.get(collPath(hb, "c", "objects/"+id+"/versions/"), "red")
	if string(r.body) != `{"more":false,"versions":["`+ts(2)+`"]}` {
		t.Errorf("red's version was deleted by amber: %s", r.body)
	}
	if r := hb.get(collPath(hb, "c", "objects/"+id+"/"), "amber"); r.code != 404 {
		t.Errorf("amber after delete: %d %s", r.code, r.body)
	}
	// The RED version is not amber's to delete: not found.
	if r := hb.do(req{method: http.MethodDelete, path: collPath(hb, "c", "objects/"+id+"/?match[version]="+ts(2)), auth: "amber"}); r.code != 404 {
		t.Errorf("amber deleting red's version: %d", r.code)
	}
}
