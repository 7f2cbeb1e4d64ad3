// Package screen screens cryptocurrency addresses against the wallets the
// store knows: OFAC-listed, attributed to a DPRK actor by a partner, or
// labelled as a mixer, bridge or exchange. It answers for direct exposure
// (the address itself is listed); indirect exposure through the transfer
// graph comes with the chain graph.
//
// Screening reads through a store.Reader, so the hub hands it the viewer's
// view (access.ReaderFor) and an organisation only gets evidence it may
// see.
package screen

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/chain/address"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// Risk levels, most severe first.
const (
	Severe = "severe" // sanctioned, or attributed to a threat actor
	High   = "high"   // listed as a perpetrator or as malicious by a partner
	Medium = "medium" // a mixer, bridge or other laundering service
	Low    = "low"    // a known service such as an exchange
	None   = "none"
)

var rank = map[string]int{None: 0, Low: 1, Medium: 2, High: 3, Severe: 4}

// MaxBatch bounds one screening request.
const MaxBatch = 10000

// Reason is one piece of evidence.
type Reason struct {
	Indicator string   `json:"indicator"`
	Name      string   `json:"name,omitempty"`
	Source    string   `json:"source,omitempty"` // who lists it (the creating identity)
	Actor     string   `json:"actor,omitempty"`
	Labels    []string `json:"labels,omitempty"`
	TLP       string   `json:"tlp"`
	Risk      string   `json:"risk"`
	Note      string   `json:"note,omitempty"`
}

// caseInsensitive marks records found by the lower-cased form.
const caseInsensitive = "\x00ci:"

// Result is the answer for one address.
type Result struct {
	Input     string   `json:"input"`
	Canonical string   `json:"canonical,omitempty"`
	Chains    []string `json:"chains,omitempty"`
	Risk      string   `json:"risk"`
	Error     string   `json:"error,omitempty"`
	Reasons   []Reason `json:"reasons,omitempty"`
	// TLP is the most restrictive marking among the evidence shown.
	TLP string `json:"tlp,omitempty"`
}

// ErrTooMany is returned for a batch over MaxBatch.
var ErrTooMany = errors.New("too many addresses in one request")

// Screen screens each address. Invalid addresses get Error and risk none;
// they do not fail the batch.
func Screen(ctx context.Context, r store.Reader, inputs []string) ([]Result, error) {
	if len(inputs) > MaxBatch {
		return nil, ErrTooMany
	}
	out := make([]Result, len(inputs))
	names := map[string]string{} // identity and actor names, by id
	for i, in := range inputs {
		res := Result{Input: in, Risk: None}
		a, err := address.Parse(in)
		if err != nil {
			res.Error = err.Error()
			out[i] = res
			continue
		}
		res.Canonical = a.Canonical
		for _, c := range a.Chains {
			res.Chains = append(res.Chains, string(c))
		}
		recs, err := r.ByValue(ctx, a.Canonical, 100)
		if err != nil {
			return nil, err
		}
		// Some sources lower-case every address, which breaks base58
		// (the OFAC entity map in wide use does). A case-insensitive match
		// is still evidence, and two valid base58 addresses differing only
		// in case do not occur in practice; the reason says so.
		if low := strings.ToLower(a.Canonical); low != a.Canonical {
			more, err := r.ByValue(ctx, low, 100)
			if err != nil {
				return nil, err
			}
			for _, rec := range more {
				rec.Source = caseInsensitive + rec.Source
				recs = append(recs, rec)
			}
		}
		if err := evidence(ctx, r, &res, recs, names); err != nil {
			return nil, err
		}
		out[i] = res
	}
	return out, nil
}

// evidence turns the indicators listing an address into reasons.
func evidence(ctx context.Context, r store.Reader, res *Result, recs []store.Record, names map[string]string) error {
	var inds []store.Record
	for _, rec := range recs {
		if rec.Object.Type == "indicator" && !rec.Object.Revoked && listsWallet(rec.Object) {
			inds = append(inds, rec)
		}
	}
	if len(inds) == 0 {
		return nil
	}
	ids := make([]string, len(inds))
	for i, rec := range inds {
		ids[i] = rec.Object.ID
	}
	edges, err := r.Edges(ctx, ids)
	if err != nil {
		return err
	}
	actorOf := map[string][]string{}
	var want []string
	for _, e := range edges {
		if e.Kind == "indicates" || e.Kind == "attributed-to" {
			actorOf[e.Source] = append(actorOf[e.Source], e.Target)
			want = append(want, e.Target)
		}
	}
	for _, rec := range inds {
		if c := rec.CreatedBy; c != "" {
			want = append(want, c)
		}
	}
	if err := resolveNames(ctx, r, want, names); err != nil {
		return err
	}
	worst := stix.TLPNone
	for _, rec := range inds {
		o := rec.Object
		tlp := rec.EffectiveTLP
		if tlp == stix.TLPNone {
			tlp = stix.TLPAmber
		}
		if tlp > worst {
			worst = tlp
		}
		reason := Reason{Indicator: o.ID, Name: o.String("name"), Source: names[rec.CreatedBy], Labels: o.Labels, TLP: tlp.String()}
		if strings.HasPrefix(rec.Source, caseInsensitive) {
			reason.Note = "matched ignoring case: the source lower-cased this address"
		}
		var actors []string
		for _, id := range actorOf[o.ID] {
			if n := names[id]; n != "" {
				actors = append(actors, n)
			}
		}
		sort.Strings(actors)
		reason.Actor = strings.Join(actors, ", ")
		reason.Risk = riskOf(o, reason)
		if rank[reason.Risk] > rank[res.Risk] {
			res.Risk = reason.Risk
		}
		res.Reasons = append(res.Reasons, reason)
	}
	sort.SliceStable(res.Reasons, func(i, j int) bool { return rank[res.Reasons[i].Risk] > rank[res.Reasons[j].Risk] })
	res.TLP = worst.String()
	return nil
}

func listsWallet(o *stix.Object) bool {
	for _, pv := range stix.PatternValues(o.String("pattern")) {
		if strings.HasPrefix(pv.Path, "cryptocurrency-wallet:") {
			return true
		}
	}
	return false
}

// riskOf grades one listing: sanctions and actor attribution are severe;
// the importers' labels (OFAC "sanctioned", TagPack categories) grade the
// rest.
func riskOf(o *stix.Object, r Reason) string {
	labels := map[string]bool{}
	for _, l := range o.Labels {
		labels[strings.ToLower(l)] = true
	}
	for _, l := range o.Strings("indicator_types") {
		labels[strings.ToLower(l)] = true
	}
	cat := strings.ToLower(o.String("x_bulwark_category"))
	switch {
	case labels["sanctioned"] || r.Actor != "":
		return Severe
	case labels["perpetrator"] || labels["malicious-activity"] || cat == "perpetrator":
		return High
	case labels["mixer"] || labels["bridge"] || strings.Contains(cat, "mix") || strings.Contains(cat, "bridge"):
		return Medium
	case labels["exchange"] || strings.Contains(cat, "exchange"):
		return Low
	}
	return High // listed by someone, for a reason this grading does not know
}

func resolveNames(ctx context.Context, r store.Reader, ids []string, names map[string]string) error {
	var missing []string
	seen := map[string]bool{}
	for _, id := range ids {
		if _, ok := names[id]; !ok && !seen[id] {
			seen[id] = true
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	recs, err := r.Latest(ctx, missing)
	if err != nil {
		return err
	}
	for _, id := range missing {
		names[id] = ""
	}
	for _, rec := range recs {
		names[rec.Object.ID] = rec.Object.Name()
	}
	return nil
}
