package taint

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// STIXOptions control the STIX output of a trace.
type STIXOptions struct {
	// Creator is the identity of the organisation publishing the trace.
	Creator *stix.Object
	// ActorRef names the threat actor or intrusion set the theft is
	// attributed to; every laundering indicator "indicates" it.
	ActorRef string
	// Name names the theft ("Harmony bridge theft"); it goes into the
	// report's and the indicators' names.
	Name string
	TLP  stix.TLP
	Now  time.Time
}

// BuildSTIX returns the trace as STIX 2.1 objects: an indicator for each
// address seed (the theft wallet), a cryptocurrency-wallet indicator for
// every laundering address the report lists (derived from the theft's
// indicators and indicating the actor), and a report that refers to them
// all. Exchanges, mixers and bridges are never made into indicators: their
// wallets carry everyone's funds. Ids derive from the theft and the
// address, so running the trace again updates the same objects.
func BuildSTIX(rep *Report, opt STIXOptions) ([]*stix.Object, error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	name := opt.Name
	if name == "" {
		name = "theft from " + strings.Join(rep.Seeds, ", ")
	}
	var objs []*stix.Object
	c := feed.Common{Created: opt.Now, Markings: feed.TLPMarkings(opt.TLP)}
	if opt.Creator != nil {
		c.CreatedBy = opt.Creator.ID
		objs = append(objs, opt.Creator)
	}
	theft := strings.Join(slices.Sorted(slices.Values(rep.Seeds)), ",")
	var refs, seedInds []string
	for _, s := range rep.Seeds {
		if IsTxHash(s) {
			continue
		}
		pat, err := feed.Pattern(feed.KindWallet, s)
		if err != nil {
			return nil, err
		}
		id := stix.DeterministicID("indicator", "bulwark-trace-seed", c.CreatedBy, s)
		ind, err := feed.Indicator(id, pat, "Theft wallet: "+name, opt.Now, withLabels(c, "theft"), map[string]any{
			"indicator_types": []string{"malicious-activity", "attribution"},
			"description":     fmt.Sprintf("Holds the funds of the %s at the start of the trace.", name),
		})
		if err != nil {
			return nil, fmt.Errorf("seed %s: %w", s, err)
		}
		objs = append(objs, ind)
		refs = append(refs, id)
		seedInds = append(seedInds, id)
	}
	if opt.ActorRef != "" {
		refs = append(refs, opt.ActorRef)
	}
	for _, a := range rep.Addresses {
		if a.Seed || (Label{Kind: a.Kind}).Terminal() || strings.HasPrefix(a.Address, "tx:") {
			continue
		}
		pat, err := feed.Pattern(feed.KindWallet, a.Address)
		if err != nil {
			return nil, err
		}
		id := stix.DeterministicID("indicator", "bulwark-trace", c.CreatedBy, theft, a.Address)
		validFrom := opt.Now
		if a.First != "" {
			if t, err := time.Parse(time.RFC3339, a.First); err == nil {
				validFrom = t
			}
		}
		var txs []string
		for _, s := range a.Path {
			if s.Tx != "" {
				txs = append(txs, s.Tx)
			}
		}
		ind, err := feed.Indicator(id, pat, "Laundering address: "+name, validFrom, withLabels(c, "laundering", rep.Model), map[string]any{
			"indicator_types": []string{"malicious-activity", "attribution"},
			"description": fmt.Sprintf("Received %s of the funds of the %s, %d hops from the theft (%s taint model).",
				Unit{Name: rep.Unit}.Format(a.Amount), name, a.Hops, rep.Model),
			"x_bulwark_trace": map[string]any{
				"model": rep.Model, "amount": a.Amount, "unit": rep.Unit, "hops": a.Hops, "path_txs": txs,
			},
		})
		if err != nil {
			return nil, fmt.Errorf("address %s: %w", a.Address, err)
		}
		objs = append(objs, ind)
		refs = append(refs, id)
		for _, s := range seedInds {
			rel, err := feed.Relationship(id, "derived-from", s, c)
			if err != nil {
				return nil, err
			}
			objs = append(objs, rel)
			refs = append(refs, rel.ID)
		}
		if opt.ActorRef != "" {
			rel, err := feed.Relationship(id, "indicates", opt.ActorRef, c)
			if err != nil {
				return nil, err
			}
			objs = append(objs, rel)
			refs = append(refs, rel.ID)
		}
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("nothing to report: no wallet seeds and no laundering addresses over the threshold")
	}
	rid := stix.DeterministicID("report", "bulwark-trace", c.CreatedBy, theft, rep.Model)
	rpt, err := feed.SDO("report", rid, c, map[string]any{
		"name":         fmt.Sprintf("Trace of the %s (%s)", name, rep.Model),
		"description":  strings.Join(rep.Findings, "\n"),
		"published":    stix.FormatTimestamp(opt.Now.UTC().Truncate(time.Millisecond)),
		"report_types": []string{"threat-actor", "indicator"},
		"object_refs":  refs,
	})
	if err != nil {
		return nil, err
	}
	return append(objs, rpt), nil
}

func withLabels(c feed.Common, labels ...string) feed.Common {
	c.Labels = append(slices.Clone(c.Labels), labels...)
	return c
}

// IsTxHash tells transaction-hash seeds from address seeds: 32 bytes in
// hexadecimal, with or without 0x, is a transaction, never a wallet.
func IsTxHash(s string) bool {
	h := strings.TrimPrefix(strings.ToLower(s), "0x")
	return len(h) == 64 && strings.Trim(h, "0123456789abcdef") == ""
}
