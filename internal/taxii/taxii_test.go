package taxii

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// basicHub: alpha (green) writes and reads "shared"; bravo (amber) reads
// it; "public" is public with default CLEAR; "drop" is write-only for alpha.
func basicHub(t *testing.T) *hub {
	hb := newHub(t, Options{})
	hb.org("alpha", stix.TLPGreen, false)
	hb.org("bravo", stix.TLPAmber, false)
	hb.coll("shared", stix.TLPAmber, false)
	hb.coll("public", stix.TLPClear, true)
	hb.coll("drop", stix.TLPAmber, false)
	hb.grant("alpha", "shared", true, true)
	hb.grant("bravo", "shared", true, false)
	hb.grant("alpha", "drop", false, true)
	return hb
}

func collPath(hb *hub, title, rest string) string {
	return root + "collections/" + hb.colls[title].ID + "/" + rest
}

func TestDiscoveryAndAPIRoot(t *testing.T) {
	hb := basicHub(t)
	for _, path := range []string{"/taxii2/", "/taxii2"} {
		r := hb.get(path, "")
		if r.code != 200 || r.h.Get("Content-Type") != MediaType {
			t.Fatalf("%s: %d %s %s", path, r.code, r.h.Get("Content-Type"), r.body)
		}
		want := `{"title":"Bulwark TAXII 2.1 server","default":"/taxii2/api/","api_roots":["/taxii2/api/"]}`
		if string(r.body) != want {
			t.Errorf("%s body %s, want %s", path, r.body, want)
		}
	}
	r := hb.get(root, "alpha")
	want := `{"title":"Bulwark TAXII 2.1 server","versions":["application/taxii+json;version=2.1"],"max_content_length":33554432}`
	if r.code != 200 || string(r.body) != want {
		t.Errorf("api root: %d %s", r.code, r.body)
	}
	r = hb.get("/nowhere/", "")
	var e errorBody
	r.json(t, &e)
	if r.code != 404 || e.HTTPStatus != "404" || e.Title == "" || r.h.Get("Content-Type") != MediaType {
		t.Errorf("unknown path: %d %s", r.code, r.body)
	}
	r = hb.do(req{method: http.MethodPut, path: root})
	r.json(t, &e)
	if r.code != 405 || e.HTTPStatus != "405" || r.h.Get("Allow") == "" {
		t.Errorf("PUT api root: %d %s", r.code, r.body)
	}
}

func TestCollections(t *testing.T) {
	hb := basicHub(t)
	type coll struct {
		ID         string   `json:"id"`
		Title      string   `json:"title"`
		CanRead    bool     `json:"can_read"`
		CanWrite   bool     `json:"can_write"`
		MediaTypes []string `json:"media_types"`
	}
	list := func(who string) []coll {
		r := hb.get(root+"collections/", who)
		if r.code != 200 {
			t.Fatalf("%s: %d %s", who, r.code, r.body)
		}
		var out struct{ Collections []coll }
		r.json(t, &out)
		return out.Collections
	}
	got := list("alpha")
	if len(got) != 3 || got[0].Title != "shared" || !got[0].CanRead || !got[0].CanWrite ||
		got[1].Title != "public" || !got[1].CanRead || got[1].CanWrite ||
		got[2].Title != "drop" || got[2].CanRead || !got[2].CanWrite ||
		!slices.Equal(got[0].MediaTypes, []string{STIXMediaType}) {
		t.Errorf("alpha sees %+v", got)
	}
	if got := list("bravo"); len(got) != 2 || got[0].CanWrite || got[1].Title != "public" {
		t.Errorf("bravo sees %+v", got)
	}
	if got := list(""); len(got) != 1 || got[0].Title != "public" || got[0].ID != hb.colls["public"].ID {
		t.Errorf("anonymous sees %+v", got)
	}
	r := hb.get(collPath(hb, "shared", ""), "bravo")
	var c coll
	r.json(t, &c)
	if r.code != 200 || c.ID != hb.colls["shared"].ID || !c.CanRead || c.CanWrite {
		t.Errorf("collection as bravo: %d %s", r.code, r.body)
	}
	// Hidden and missing collections answer alike; titles do not resolve.
	for _, p := range []string{collPath(hb, "drop", ""), root + "collections/shared/", root + "collections/00000000-0000-4000-8000-000000000000/"} {
		if r := hb.get(p, "bravo"); r.code != 404 {
			t.Errorf("%s as bravo: %d", p, r.code)
		}
	}
	if r := hb.get(collPath(hb, "shared", ""), ""); r.code != 404 {
		t.Errorf("private collection as anonymous: %d", r.code)
	}
	// Write-only: reading objects is forbidden, the collection is listed.
	for _, p := range []string{"objects/", "manifest/", "objects/indicator--00000001-0000-4000-8000-000000000001/", "objects/indicator--00000001-0000-4000-8000-000000000001/versions/"} {
		if r := hb.get(collPath(hb, "drop", p), "alpha"); r.code != 403 {
			t.Errorf("write-only %s: %d %s", p, r.code, r.body)
		}
	}
}

func TestNegotiation(t *testing.T) {
	hb := basicHub(t)
	path := collPath(hb, "shared", "objects/")
	for accept, want := range map[string]int{
		"":                                    200,
		MediaType:                             200,
		"application/taxii+json":              200,
		"application/taxii+json; version=2.1": 200,
		"*/*":                                 200,
		"application/*":                       200,
		"text/html, application/taxii+json;version=2.1;q=0.5": 200,
		"application/json":                       406,
		"application/taxii+json;version=2.0":     406,
		"text/html":                              406,
		"application/taxii+json;version=2.1;q=0": 406,
	} {
		r := hb.do(req{path: path, auth: "alpha", headers: map[string]string{"Accept": accept}})
		if r.code != want {
			t.Errorf("Accept %q: %d, want %d", accept, r.code, want)
		}
		if r.h.Get("Content-Type") != MediaType {
			t.Errorf("Accept %q: Content-Type %q", accept, r.h.Get("Content-Type"))
		}
	}
	body := `{"objects":[` + indicator(newID("indicator"), 1, "", nil, nil) + `]}`
	for ct, want := range map[string]int{
		MediaType:                             202,
		"application/taxii+json":              202,
		"application/taxii+json; version=2.1": 202,
		"application/json":                    415,
		"application/taxii+json;version=2.0":  415,
		"":                                    415,
	} {
		r := hb.do(req{method: "POST", path: path, auth: "alpha", body: body, headers: map[string]string{"Content-Type": ct}})
		if r.code != want {
			t.Errorf("Content-Type %q: %d, want %d: %s", ct, r.code, want, r.body)
		}
	}
}

func TestPostStatusGetDelete(t *testing.T) {
	hb := basicHub(t)
	alphaID := hb.orgs["alpha"].Identity
	bravoID := hb.orgs["bravo"].Identity
	ind := newID("indicator")
	mal := newID("malware")
	other := newID("indicator")
	v1 := indicator(ind, 1, "", []string{stix.TLP2Green}, nil)
	v2 := indicator(ind, 2, alphaID, []string{stix.TLP2Green}, nil)
	bad := `{"type":"indicator","spec_version":"2.1","id":"` + newID("indicator") + `","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`
	spoof := indicator(other, 1, bravoID, nil, nil)
	body := `{"objects":[` + strings.Join([]string{v1, v2, malware(mal, 5, []string{stix.TLP1Green}), bad, spoof}, ",") + `]}`
	path := collPath(hb, "shared", "objects/")
	r := hb.do(req{method: "POST", path: path, auth: "alpha", body: body})
	if r.code != 202 || r.h.Get("Content-Type") != MediaType {
		t.Fatalf("POST: %d %s", r.code, r.body)
	}
	var st struct {
		ID           string         `json:"id"`
		Status       string         `json:"status"`
		RequestTS    string         `json:"request_timestamp"`
		Total        int            `json:"total_count"`
		SuccessCount int            `json:"success_count"`
		Successes    []statusDetail `json:"successes"`
		FailureCount int            `json:"failure_count"`
		Failures     []statusDetail `json:"failures"`
		PendingCount *int           `json:"pending_count"`
	}
	r.json(t, &st)
	if st.Status != "complete" || st.Total != 5 || st.SuccessCount != 3 || st.FailureCount != 2 || st.PendingCount == nil || *st.PendingCount != 0 {
		t.Fatalf("status %s", r.body)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000000Z", st.RequestTS); err != nil {
		t.Errorf("request_timestamp %q: %v", st.RequestTS, err)
	}
	if st.Successes[0] != (statusDetail{ID: ind, Version: ts(1)}) || st.Successes[2].ID != mal {
		t.Errorf("successes %+v", st.Successes)
	}
	if !strings.Contains(st.Failures[0].Message, "pattern") || !strings.Contains(st.Failures[0].Message, "object 3") {
		t.Errorf("invalid object's failure does not name the property: %+v", st.Failures[0])
	}
	if st.Failures[1].ID != other || !strings.Contains(st.Failures[1].Message, "bravo") {
		t.Errorf("spoofed created_by_ref: %+v", st.Failures[1])
	}
	// The status is the poster's alone.
	sp := root + "status/" + st.ID + "/"
	if r2 := hb.get(sp, "alpha"); r2.code != 200 || string(r2.body) != string(r.body) {
		t.Errorf("status as alpha: %d %s", r2.code, r2.body)
	}
	for _, who := range []string{"bravo", ""} {
		if r2 := hb.get(sp, who); r2.code != 404 {
			t.Errorf("status as %q: %d", who, r2.code)
		}
	}
	// Statuses outlive 24 hours, then go.
	hb.clock.add(24*time.Hour - time.Second)
	if r2 := hb.get(sp, "alpha"); r2.code != 200 {
		t.Errorf("status after 24h: %d", r2.code)
	}
	hb.clock.add(2 * time.Second)
	if r2 := hb.get(sp, "alpha"); r2.code != 404 {
		t.Errorf("status after expiry: %d", r2.code)
	}
	// Re-posting identical objects succeeds.
	r = hb.do(req{method: "POST", path: path, auth: "alpha", body: `{"objects":[` + v1 + "," + v2 + `]}`})
	r.json(t, &st)
	if r.code != 202 || st.SuccessCount != 2 || st.FailureCount != 0 {
		t.Errorf("re-post: %d %s", r.code, r.body)
	}
	// Bravo may read but not write; the write-only collection takes posts.
	if r := hb.do(req{method: "POST", path: path, auth: "bravo", body: body}); r.code != 403 {
		t.Errorf("POST as reader: %d", r.code)
	}
	if r := hb.do(req{method: "POST", path: collPath(hb, "drop", "objects/"), auth: "bravo", body: body}); r.code != 404 {
		t.Errorf("POST to hidden collection: %d", r.code)
	}
	if r := hb.do(req{method: "POST", path: collPath(hb, "drop", "objects/"), auth: "alpha", body: `{"objects":[` + v1 + `]}`}); r.code != 202 {
		t.Errorf("POST to write-only collection: %d %s", r.code, r.body)
	}
	for _, b := range []string{`not json`, `{"objects":{}}`, `[]`} {
		if r := hb.do(req{method: "POST", path: path, auth: "alpha", body: b}); r.code != 400 {
			t.Errorf("POST %q: %d", b, r.code)
		}
	}

	// Objects: latest versions in date_added order, with the headers.
	r = hb.get(path, "bravo")
	var env envelope
	r.json(t, &env)
	if got := objIDs(t, env.Objects); !slices.Equal(got, []string{ind + "@" + ts(2), mal + "@" + ts(5)}) || *env.More || env.Next != "" {
		t.Errorf("objects: %s", r.body)
	}
	first, last := r.h.Get("X-TAXII-Date-Added-First"), r.h.Get("X-TAXII-Date-Added-Last")
	if len(first) != len("2006-01-02T15:04:05.000000Z") || !strings.HasSuffix(first, "Z") || first >= last {
		t.Errorf("date headers %q %q", first, last)
	}
	// The object written without created_by_ref got the writer's identity.
	var o1 struct {
		CreatedBy string `json:"created_by_ref"`
	}
	r = hb.get(collPath(hb, "shared", "objects/"+ind+"/?match[version]=first"), "bravo")
	r.json(t, &env)
	if len(env.Objects) != 1 {
		t.Fatalf("first version: %s", r.body)
	}
	_ = json.Unmarshal(env.Objects[0], &o1)
	if o1.CreatedBy != alphaID {
		t.Errorf("created_by_ref %q, want %q", o1.CreatedBy, alphaID)
	}

	// Manifest.
	r = hb.get(collPath(hb, "shared", "manifest/?match[version]=all"), "bravo")
	var man struct {
		More    bool `json:"more"`
		Objects []struct {
			ID, DateAdded, Version, MediaType string
		} `json:"objects"`
	}
	_ = json.Unmarshal(r.body, &man)
	var raw struct {
		Objects []map[string]string `json:"objects"`
	}
	r.json(t, &raw)
	if r.code != 200 || len(raw.Objects) != 3 || raw.Objects[0]["id"] != ind || raw.Objects[0]["version"] != ts(1) ||
		raw.Objects[1]["version"] != ts(2) || raw.Objects[2]["media_type"] != STIXMediaType ||
		raw.Objects[0]["date_added"] != r.h.Get("X-TAXII-Date-Added-First") || raw.Objects[2]["date_added"] != r.h.Get("X-TAXII-Date-Added-Last") {
		t.Errorf("manifest: %s", r.body)
	}

	// Versions.
	vp := collPath(hb, "shared", "objects/"+ind+"/versions/")
	r = hb.get(vp, "bravo")
	if r.code != 200 || string(r.body) != `{"more":false,"versions":["`+ts(1)+`","`+ts(2)+`"]}` || r.h.Get("X-TAXII-Date-Added-First") == "" {
		t.Errorf("versions: %d %s", r.code, r.body)
	}
	if r := hb.get(vp+"?match[version]=all", "bravo"); r.code != 400 {
		t.Errorf("versions with match[version]: %d", r.code)
	}
	for q, want := range map[string][]string{
		"":                                   {ind + "@" + ts(2)},
		"?match[version]=all":                {ind + "@" + ts(1), ind + "@" + ts(2)},
		"?match[version]=first":              {ind + "@" + ts(1)},
		"?match[version]=first,last":         {ind + "@" + ts(1), ind + "@" + ts(2)},
		"?match[version]=" + ts(2):           {ind + "@" + ts(2)},
		"?match[version]=" + ts(1) + ",last": {ind + "@" + ts(1), ind + "@" + ts(2)},
		"?match[spec_version]=2.1":           {ind + "@" + ts(2)},
	} {
		r := hb.get(collPath(hb, "shared", "objects/"+ind+"/"+q), "bravo")
		r.json(t, &env)
		if got := objIDs(t, env.Objects); r.code != 200 || !slices.Equal(got, want) {
			t.Errorf("object %s: %d %v, want %v", q, r.code, got, want)
		}
	}
	for _, q := range []string{"?match[version]=" + ts(3), "?match[spec_version]=2.0"} {
		if r := hb.get(collPath(hb, "shared", "objects/"+ind+"/"+q), "bravo"); r.code != 404 {
			t.Errorf("object %s: %d", q, r.code)
		}
	}
	if r := hb.get(collPath(hb, "shared", "objects/"+ind+"/?match[type]=indicator"), "bravo"); r.code != 400 {
		t.Errorf("object with match[type]: %d", r.code)
	}

	// Delete: bravo may only read; alpha deletes the first version.
	dp := collPath(hb, "shared", "objects/"+ind+"/?match[version]=first")
	if r := hb.do(req{method: "DELETE", path: dp, auth: "bravo"}); r.code != 403 {
		t.Errorf("DELETE as reader: %d", r.code)
	}
	if r := hb.do(req{method: "DELETE", path: dp, auth: "alpha"}); r.code != 200 || r.h.Get("Content-Type") != MediaType {
		t.Errorf("DELETE: %d %s", r.code, r.body)
	}
	if r := hb.get(vp, "bravo"); string(r.body) != `{"more":false,"versions":["`+ts(2)+`"]}` {
		t.Errorf("versions after delete: %s", r.body)
	}
	if r := hb.do(req{method: "DELETE", path: collPath(hb, "shared", "objects/"+ind+"/"), auth: "alpha"}); r.code != 200 {
		t.Errorf("DELETE rest: %d", r.code)
	}
	if r := hb.get(collPath(hb, "shared", "objects/"+ind+"/"), "alpha"); r.code != 404 {
		t.Errorf("GET after delete: %d", r.code)
	}
	if r := hb.do(req{method: "DELETE", path: collPath(hb, "shared", "objects/"+ind+"/"), auth: "alpha"}); r.code != 404 {
		t.Errorf("DELETE again: %d", r.code)
	}
}

func TestPostLimits(t *testing.T) {
	hb := newHub(t, Options{MaxContentLength: 4096})
	hb.org("alpha", stix.TLPGreen, false)
	hb.coll("shared", stix.TLPAmber, false)
	hb.grant("alpha", "shared", true, true)
	path := collPath(hb, "shared", "objects/")
	small := `{"objects":[` + indicator(newID("indicator"), 1, "", nil, nil) + `]}`
	big := `{"objects":[` + indicator(newID("indicator"), 1, "", nil, map[string]any{"description": strings.Repeat("x", 5000)}) + `]}`
	if r := hb.do(req{method: "POST", path: path, auth: "alpha", body: small}); r.code != 202 {
		t.Errorf("small: %d", r.code)
	}
	r := hb.do(req{method: "POST", path: path, auth: "alpha", body: big})
	var e errorBody
	r.json(t, &e)
	if r.code != 413 || e.HTTPStatus != "413" {
		t.Errorf("big: %d %s", r.code, r.body)
	}
	// Without a Content-Length the reader limit catches it.
	hr := httptestRequestNoLength(path, big, hb.tokens["alpha"])
	w := newRecorder()
	hb.h.ServeHTTP(w, hr)
	if w.Code != 413 {
		t.Errorf("big, chunked: %d", w.Code)
	}
}

func TestInvalidParameters(t *testing.T) {
	hb := basicHub(t)
	hb.put("shared", indicator(newID("indicator"), 1, "", nil, nil))
	for _, q := range []string{
		"added_after=yesterday", "added_after=2024-01-01", "added_after=2024-01-01T00:00:00+01:00",
		"added_after=2024-01-01T00:00:00Z&added_after=2024-01-02T00:00:00Z",
		"limit=0", "limit=-1", "limit=ten", "limit=1.5", "limit=",
		"next=garbage", "next=",
		"match[id]=nonsense", "match[id]=indicator--x",
		"match[type]=Indicator", "match[type]=",
		"match[version]=latest", "match[version]=all,last", "match[version]=last,last",
		"match[version]=2024-13-01T00:00:00Z",
		"match[spec_version]=two", "match[type]=indicator&match[type]=malware",
		"%zz",
	} {
		for _, ep := range []string{"objects/", "manifest/"} {
			r := hb.get(collPath(hb, "shared", ep+"?"+q), "alpha")
			var e errorBody
			if err := json.Unmarshal(r.body, &e); err != nil || r.code != 400 || e.HTTPStatus != "400" || e.Title == "" {
				t.Errorf("%s?%s: %d %s", ep, q, r.code, r.body)
			}
		}
	}
	// Unknown parameters and match fields are ignored; big limits are capped.
	for _, q := range []string{"foo=bar", "match[foo]=bar", "limit=100000", "match[version]=first,last," + ts(1)} {
		if r := hb.get(collPath(hb, "shared", "objects/?"+q), "alpha"); r.code != 200 {
			t.Errorf("%s: %d %s", q, r.code, r.body)
		}
	}
}

func TestAuth(t *testing.T) {
	hb := basicHub(t)
	path := collPath(hb, "shared", "objects/")
	tok := hb.tokens["alpha"]
	for name, auth := range map[string]string{
		"bearer":            "alpha",
		"basic":             basic("anyone", tok),
		"basic, no user":    basic("", tok),
		"bearer, lowercase": "raw:bearer " + tok,
	} {
		if r := hb.do(req{path: path, auth: auth}); r.code != 200 {
			t.Errorf("%s: %d %s", name, r.code, r.body)
		}
	}
	for name, auth := range map[string]string{
		"wrong token":    "raw:Bearer bwk_nope",
		"basic wrong":    basic("alpha", "bwk_nope"),
		"basic no colon": "raw:Basic " + "YWxwaGE=",
		"basic not b64":  "raw:Basic !!!",
		"other scheme":   "raw:Digest x",
		"empty bearer":   "raw:Bearer ",
		"huge token":     "raw:Bearer " + strings.Repeat("a", 5000),
	} {
		r := hb.do(req{path: path, auth: auth, remote: "192.0.2.1:1234"})
		var e errorBody
		r.json(t, &e)
		if r.code != 401 || e.HTTPStatus != "401" || len(r.h.Values("WWW-Authenticate")) != 2 {
			t.Errorf("%s: %d %v %s", name, r.code, r.h, r.body)
		}
	}
	// Revoked tokens fail.
	secret, id, err := hb.svc.NewToken(ctx, "bravo", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if r := hb.do(req{path: path, auth: "raw:Bearer " + secret}); r.code != 200 {
		t.Fatalf("fresh token: %d", r.code)
	}
	if err := hb.st.RevokeToken(ctx, id); err != nil {
		t.Fatal(err)
	}
	if r := hb.do(req{path: path, auth: "raw:Bearer " + secret}); r.code != 401 {
		t.Errorf("revoked token: %d", r.code)
	}
}

func TestThrottle(t *testing.T) {
	hb := basicHub(t)
	path := collPath(hb, "shared", "objects/")
	attacker, other := "198.51.100.7:5555", "203.0.113.9:80"
	for i := range 10 {
		if r := hb.do(req{path: path, auth: "raw:Bearer guess" + url.QueryEscape(string(rune('a'+i))), remote: attacker}); r.code != 401 {
			t.Fatalf("guess %d: %d", i, r.code)
		}
	}
	// Even the right token waits now, from that address only.
	r := hb.do(req{path: path, auth: "alpha", remote: attacker})
	var e errorBody
	r.json(t, &e)
	if r.code != 429 || e.HTTPStatus != "429" || r.h.Get("Retry-After") != "60" {
		t.Errorf("after 10 failures: %d Retry-After %q %s", r.code, r.h.Get("Retry-After"), r.body)
	}
	if r := hb.do(req{path: path, auth: "alpha", remote: other}); r.code != 200 {
		t.Errorf("other address: %d", r.code)
	}
	hb.clock.add(30 * time.Second)
	if r := hb.do(req{path: path, auth: "alpha", remote: attacker}); r.code != 429 || r.h.Get("Retry-After") != "30" {
		t.Errorf("after 30 s: %d %q", r.code, r.h.Get("Retry-After"))
	}
	hb.clock.add(31 * time.Second)
	if r := hb.do(req{path: path, auth: "alpha", remote: attacker}); r.code != 200 {
		t.Errorf("after the window: %d", r.code)
	}
}

func TestNextTokenBinding(t *testing.T) {
	hb := basicHub(t)
	hb.grant("bravo", "public", true, false)
	for i := range 5 {
		hb.put("shared", indicator(newID("indicator"), i, "", []string{stix.TLP2Green}, nil))
		hb.put("public", indicator(newID("indicator"), i, "", []string{stix.TLP2Clear}, nil))
	}
	r := hb.get(collPath(hb, "shared", "objects/?limit=2"), "alpha")
	var env envelope
	r.json(t, &env)
	if env.Next == "" || !*env.More {
		t.Fatalf("no next: %s", r.body)
	}
	next := url.QueryEscape(env.Next)
	if r := hb.get(collPath(hb, "shared", "objects/?limit=2&next="+next), "alpha"); r.code != 200 {
		t.Errorf("own next: %d %s", r.code, r.body)
	}
	if r := hb.get(collPath(hb, "shared", "objects/?limit=3&next="+next), "alpha"); r.code != 200 {
		t.Errorf("next with another limit: %d", r.code)
	}
	for name, c := range map[string]struct{ path, who string }{
		"other viewer":     {collPath(hb, "shared", "objects/?limit=2&next="+next), "bravo"},
		"other filters":    {collPath(hb, "shared", "objects/?limit=2&match[type]=indicator&next="+next), "alpha"},
		"other endpoint":   {collPath(hb, "shared", "manifest/?limit=2&next="+next), "alpha"},
		"other collection": {collPath(hb, "public", "objects/?limit=2&next="+next), "alpha"},
		"tampered":         {collPath(hb, "shared", "objects/?limit=2&next="+url.QueryEscape(flip(env.Next))), "alpha"},
	} {
		if r := hb.get(c.path, c.who); r.code != 400 {
			t.Errorf("%s: %d %s", name, r.code, r.body)
		}
	}
	hb.clock.add(time.Hour + time.Second)
	if r := hb.get(collPath(hb, "shared", "objects/?limit=2&next="+next), "alpha"); r.code != 400 {
		t.Errorf("expired next: %d", r.code)
	}
	// Permissions are re-checked on every page: a token of a viewer that
	// lost its grant leads nowhere.
	r = hb.get(collPath(hb, "shared", "objects/?limit=2"), "bravo")
	r.json(t, &env)
	hb.grant("bravo", "shared", false, false)
	if r := hb.get(collPath(hb, "shared", "objects/?limit=2&next="+url.QueryEscape(env.Next)), "bravo"); r.code != 404 {
		t.Errorf("next after revoked grant: %d", r.code)
	}
}

func flip(s string) string {
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
