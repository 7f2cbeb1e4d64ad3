package taint

import "testing"

func TestClassifyLabel(t *testing.T) {
	for label, want := range map[string]string{
		"Binance 14":                         "exchange",
		"OKX: Hot Wallet":                    "exchange",
		"Huobi_Deposit_0x09c9":               "exchange",
		"Binance_Deposit_0x32ab_0x32ab":      "exchange",
		"HTX 33":                             "exchange",
		"Tornado.Cash: Router":               "mixer",
		"Tornado Cash":                       "mixer",
		"THORChain: THORChain Router v4.1.1": "bridge",
		"Harmony Bridge Hacker 45 SRC":       "perpetrator",
		"Atomic Wallet Hack 01 SRC":          "perpetrator",
		"exchange":                           "exchange",
		"":                                   "",
		"Terminus":                           "",
		"rokx wallet":                        "",
		"Uniswap V2: Router 2":               "exchange",
		"1inch v5: Aggregation Router":       "exchange",
		"Eth2 Beacon Deposit Contract":       "",
		"Lido: Staking Deposit":              "",
		"Transit Swap: Router V4 2":          "bridge",
	} {
		if got := ClassifyLabel(label); got != want {
			t.Errorf("ClassifyLabel(%q) = %q, want %q", label, got, want)
		}
	}
}
