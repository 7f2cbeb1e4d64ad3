package taint

import (
	"strings"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// GraphLabels classifies the labels a graph's sources gave (ground-truth
// CSV, GEXF) into service labels for Options.Labels.
func GraphLabels(g *graph.Graph) map[string]Label {
	labels := map[string]Label{}
	g.Labels(func(id graph.NodeID, text string) {
		if k := ClassifyLabel(text); k != "" {
			labels[g.Address(id)] = Label{Kind: k, Name: text}
		}
	})
	return labels
}

// Service names as they appear in tag databases and ground-truth labels
// ("Binance 14", "OKX: Hot Wallet", "Huobi_Deposit_0x09c9"). Matching is
// on words, so "okx" does not match inside an unrelated word.
var (
	exchangeWords = []string{
		"exchange", "deposit", "hot wallet", "cold wallet", "binance", "okx", "okex", "huobi", "htx",
		"bitget", "kucoin", "coinbase", "kraken", "bybit", "gate io", "gateio", "mexc", "bitfinex",
		"poloniex", "ftx", "crypto com", "bitstamp", "gemini", "upbit", "bithumb", "bitmex", "whitebit",
		"fixedfloat", "changenow", "sideshift", "otc", "dex", "uniswap", "1inch", "0x protocol",
	}
	mixerWords  = []string{"mixer", "mixing", "tornado", "sinbad", "blender", "wasabi", "samourai", "coinjoin", "railgun", "chipmixer"}
	bridgeWords = []string{"bridge", "thorchain", "multichain", "wormhole", "stargate", "synapse", "avalanche bridge", "renbridge", "transit swap", "cross chain", "across", "hop protocol", "orbiter"}
	// Staking contracts take deposits too, but they are no exchange.
	stakingWords = []string{"deposit contract", "beacon deposit", "staking"}
	perpWords    = []string{"hacker", "hack", "exploiter", "exploit", "thief", "lazarus", "drainer", "phishing", "scam", "perpetrator", "src"}
)

// ClassifyLabel maps a label to a service kind: exchange, mixer or bridge
// (terminals for tracing), perpetrator, or "" when it says nothing known.
// Perpetrator words win, so "Harmony Bridge Hacker 45" is the hacker, not
// the bridge. "Router" alone says nothing: DEX aggregators and mixers have
// routers as well as bridges.
func ClassifyLabel(label string) string {
	l := " " + strings.ToLower(strings.NewReplacer("_", " ", "-", " ", ":", " ", ",", " ", ".", " ").Replace(label)) + " "
	has := func(words []string) bool {
		for _, w := range words {
			if strings.Contains(l, " "+w+" ") || (strings.Contains(w, " ") && strings.Contains(l, w)) ||
				strings.Contains(l, " "+w+"s ") {
				return true
			}
		}
		return false
	}
	switch {
	case has(perpWords):
		return "perpetrator"
	case has(mixerWords):
		return "mixer"
	case has(bridgeWords):
		return "bridge"
	case has(stakingWords):
		return ""
	case has(exchangeWords):
		return "exchange"
	}
	switch strings.TrimSpace(l) {
	case "exchange", "mixer", "bridge":
		return strings.TrimSpace(l)
	}
	return ""
}
