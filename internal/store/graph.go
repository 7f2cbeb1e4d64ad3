package store

import (
	"context"
	"fmt"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Neighbourhood is an object with what surrounds it in the relationship graph.
type Neighbourhood struct {
	Root    Record
	Objects map[string]Record // every object reached, root included, by id
	Edges   []stix.Edge
	Hops    map[string]int // distance from the root, by id
}

// maxFrontier bounds the ids expanded per hop, so a hub object (a marking
// or an identity that created thousands of objects) cannot blow up a query.
const maxFrontier = 20000

// Explore walks edges out of and into id for up to hops steps and returns
// every object reached. Edges through the given kinds are followed in both
// directions; skip lists ids not to expand (e.g. the creator identity).
func Explore(ctx context.Context, r Reader, id string, hops int, skip map[string]bool) (*Neighbourhood, error) {
	root, err := r.Latest(ctx, []string{id})
	if err != nil {
		return nil, fmt.Errorf("exploring %s: %w", id, err)
	}
	if len(root) == 0 {
		return nil, fmt.Errorf("exploring %s: %w", id, ErrNotFound)
	}
	n := &Neighbourhood{
		Root:    root[0],
		Objects: map[string]Record{id: root[0]},
		Hops:    map[string]int{id: 0},
	}
	frontier := []string{id}
	seenEdge := map[stix.Edge]bool{}
	for hop := 1; hop <= hops && len(frontier) > 0; hop++ {
		if len(frontier) > maxFrontier {
			frontier = frontier[:maxFrontier]
		}
		edges, err := r.Edges(ctx, frontier)
		if err != nil {
			return nil, fmt.Errorf("exploring %s: %w", id, err)
		}
		var next []string
		for _, e := range edges {
			if seenEdge[e] {
				continue
			}
			seenEdge[e] = true
			n.Edges = append(n.Edges, e)
			for _, other := range []string{e.Source, e.Target, e.Via} {
				if other == "" || skip[other] {
					continue
				}
				if _, ok := n.Hops[other]; !ok {
					n.Hops[other] = hop
					if other != e.Via {
						next = append(next, other)
					}
				}
			}
		}
		frontier = next
	}
	ids := make([]string, 0, len(n.Hops))
	for k := range n.Hops {
		if k != id {
			ids = append(ids, k)
		}
	}
	for start := 0; start < len(ids); start += 500 {
		end := min(start+500, len(ids))
		recs, err := r.Latest(ctx, ids[start:end])
		if err != nil {
			return nil, fmt.Errorf("exploring %s: %w", id, err)
		}
		for _, rec := range recs {
			n.Objects[rec.Object.ID] = rec
		}
	}
	return n, nil
}
