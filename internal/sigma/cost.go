package sigma

import "sort"

// Conjunctions are reordered so cheap tests run first: an event usually
// fails a rule, and an exact or suffix test on Image rejects it long before
// twenty substring searches of CommandLine would. Evaluation has no side
// effects, so the order does not change results.

func cost(n node) int {
	switch x := n.(type) {
	case *selection:
		return cost(x.n)
	case andNode:
		c := 0
		for _, y := range x {
			c += cost(y)
		}
		return c
	case orNode:
		c := 0
		for _, y := range x {
			c += cost(y)
		}
		return c
	case notNode:
		return cost(x.n)
	case countNode:
		c := 0
		for _, y := range x.nodes {
			c += cost(y)
		}
		return c
	case *fieldMatch:
		c := 2
		for _, m := range x.ms {
			c += matcherCost(m)
		}
		return c
	case *keywordMatch:
		return 200 * len(x.ms)
	}
	return 1
}

func matcherCost(m matcher) int {
	switch x := m.(type) {
	case *strMatcher:
		switch x.kind {
		case smExact, smPrefix, smSuffix, smAny:
			return 1
		case smContains:
			return 4
		}
		return 8
	case reMatcher:
		return 40
	case anyMatcher:
		c := 0
		for _, y := range x {
			c += matcherCost(y)
		}
		return c
	case fieldrefMatcher:
		return 4
	}
	return 2
}

// optimize reorders every conjunction in the tree by ascending cost.
func optimize(n node) node {
	switch x := n.(type) {
	case *selection:
		x.n = optimize(x.n)
		return x
	case andNode:
		for i := range x {
			x[i] = optimize(x[i])
		}
		sort.SliceStable(x, func(i, j int) bool { return cost(x[i]) < cost(x[j]) })
		return x
	case orNode:
		for i := range x {
			x[i] = optimize(x[i])
		}
		return x
	case notNode:
		return notNode{optimize(x.n)}
	case countNode:
		for i := range x.nodes {
			x.nodes[i] = optimize(x.nodes[i])
		}
		return x
	}
	return n
}
