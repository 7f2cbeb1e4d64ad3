package chaintest

import (
	"testing"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/wire"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// BtcStory is a theft and its laundering staged on regtest, with
// transactions the test signs itself (amounts in satoshi; each
// transaction pays a 10,000 fee):
//
//	before the theft  a coinbase of the miner funds the victim with
//	                  40 BTC and a wallet of clean coins with 1 and 3 BTC
//	theft             victim → thief 39.9999 BTC
//	split             thief → split A, B, C 10 BTC each, → peel 0
//	                  9.9998 BTC, and an OP_RETURN memo of 0; in the same
//	                  block an unrelated payment, miner → bystander 1 BTC
//	peel chain        one block: peel 0 → hop 1 9, peel-off 1 0.9997;
//	                  [1 BTC clean, hop 1] → peel-off 2 1.5, hop 2
//	                  8.4999; hop 2 → hop 3 7.4999, peel-off 3 0.9999
//	consolidation     [3 BTC clean, hop 3, split A, B, C] → merged 40.4998
//	deposit           merged → exchange 40.4997 BTC
//
// The exchange deposit is an anyone-can-spend P2WSH output, so a test can
// sweep it (ExchangeCoins).
type BtcStory struct {
	Node *BtcNode
	// The wallets.
	Miner, Victim, Thief, Clean, Bystander, SplitA, SplitB, SplitC, Peel0, Hop1, Hop2, Hop3,
	PeelOff1, PeelOff2, PeelOff3, Merged, Exchange, Memo *Wallet
	// The story's transactions.
	Fund, Theft, Split, Unrelated, Peel1, Peel2, Peel3, Consolidation, Deposit *Staged
	// Staged lists the transactions mined from the theft on, in order.
	Staged []*Staged
	// TheftHeight and Tip are the heights of the theft and the deposit.
	TheftHeight, Tip int64
	// ExchangeCoins holds the deposit.
	ExchangeCoins []Coin
}

// StageBtc starts btcd on regtest and stages the story on it.
func StageBtc(t testing.TB, bin string) *BtcStory {
	t.Helper()
	st := &BtcStory{
		Miner:     NewWallet(t, "miner", "p2pkh"),
		Victim:    NewWallet(t, "victim", "p2wpkh"),
		Thief:     NewWallet(t, "thief", "p2wpkh"),
		Clean:     NewWallet(t, "clean coins", "p2wpkh"),
		Bystander: NewWallet(t, "bystander", "p2wpkh"),
		SplitA:    NewWallet(t, "split a", "p2pkh"),
		SplitB:    NewWallet(t, "split b", "p2tr"),
		SplitC:    NewWallet(t, "split c", "p2wpkh"),
		Peel0:     NewWallet(t, "peel hop 0", "p2pkh"),
		Hop1:      NewWallet(t, "peel hop 1", "p2wpkh"),
		Hop2:      NewWallet(t, "peel hop 2", "p2tr"),
		Hop3:      NewWallet(t, "peel hop 3", "p2pkh"),
		PeelOff1:  NewWallet(t, "peel off 1", "p2pkh"),
		PeelOff2:  NewWallet(t, "peel off 2", "p2wpkh"),
		PeelOff3:  NewWallet(t, "peel off 3", "p2pkh"),
		Merged:    NewWallet(t, "consolidated", "p2wpkh"),
		Exchange:  NewWallet(t, "exchange deposit", "p2wsh-true"),
		Memo:      NewWallet(t, "laundered", "data"),
	}
	n := StartBtcd(t, bin, st.Miner.Addr)
	st.Node = n

	// btcd activates segwit and taproot on regtest by BIP-9 signalling
	// only, in the third window of 144 blocks: mine through it. This also
	// matures the first coinbase.
	if h := n.Generate(432); h != 432 {
		t.Fatalf("height after 432 blocks: %d", h)
	}
	var info struct {
		Forks map[string]struct {
			Status string `json:"status"`
		} `json:"bip9_softforks"`
	}
	n.Call("getblockchaininfo", &info)
	for _, f := range []string{"segwit", "taproot"} {
		if s := info.Forks[f].Status; s != "active" {
			t.Fatalf("%s is %q at height 432, want active", f, s)
		}
	}
	var hash string
	n.Call("getblockhash", &hash, 1)
	var b1 struct {
		Tx []string `json:"tx"`
	}
	n.Call("getblock", &b1, hash, 1)
	if len(b1.Tx) == 0 {
		t.Fatal("block 1 has no transactions")
	}
	cbID, err := chainhash.NewHashFromStr(b1.Tx[0])
	if err != nil {
		t.Fatal(err)
	}
	cb := Coin{Op: wire.OutPoint{Hash: *cbID, Index: 0}, Value: 50 * btcutil.SatoshiPerBitcoin, Owner: st.Miner}

	mine := func(txs ...*Staged) int64 {
		t.Helper()
		st.Staged = append(st.Staged, txs...)
		return n.Mine(txs...)
	}
	// Funded before the range a loader reads from the theft on, so the
	// theft's and the clean coins' inputs can only be resolved with
	// getrawtransaction.
	var c []Coin
	st.Fund, c = Build(t, "fund", []Coin{cb}, Pay{st.Victim, 4_000_000_000}, Pay{st.Clean, 100_000_000},
		Pay{st.Clean, 300_000_000}, Pay{st.Miner, 599_990_000})
	n.Mine(st.Fund)
	victim, clean1, clean3, change := c[0], c[1], c[2], c[3]

	st.Theft, c = Build(t, "theft", []Coin{victim}, Pay{st.Thief, 3_999_990_000})
	st.TheftHeight = mine(st.Theft)
	st.Split, c = Build(t, "split", c, Pay{st.SplitA, 1_000_000_000}, Pay{st.SplitB, 1_000_000_000},
		Pay{st.SplitC, 1_000_000_000}, Pay{st.Peel0, 999_980_000}, Pay{st.Memo, 0})
	st.Unrelated, _ = Build(t, "unrelated", []Coin{change}, Pay{st.Bystander, 100_000_000}, Pay{st.Miner, 499_980_000})
	mine(st.Split, st.Unrelated)
	splits := c[:3]
	// The peel chain in one block: each hop spends the previous hop's big
	// output, which a loader resolves from the block itself. The second
	// hop mixes clean coins in, ahead of the stolen ones.
	st.Peel1, c = Build(t, "peel 1", c[3:4], Pay{st.Hop1, 900_000_000}, Pay{st.PeelOff1, 99_970_000})
	st.Peel2, c = Build(t, "peel 2", []Coin{clean1, c[0]}, Pay{st.PeelOff2, 150_000_000}, Pay{st.Hop2, 849_990_000})
	st.Peel3, c = Build(t, "peel 3", c[1:2], Pay{st.Hop3, 749_990_000}, Pay{st.PeelOff3, 99_990_000})
	mine(st.Peel1, st.Peel2, st.Peel3)
	// Clean coins first, then the peel chain's end, so the first taint the
	// consolidation gets came down the peel chain.
	st.Consolidation, c = Build(t, "consolidation", append([]Coin{clean3, c[0]}, splits...), Pay{st.Merged, 4_049_980_000})
	mine(st.Consolidation)
	st.Deposit, st.ExchangeCoins = Build(t, "exchange deposit", c, Pay{st.Exchange, 4_049_970_000})
	st.Tip = mine(st.Deposit)
	return st
}

// CheckTrace builds a graph from transfers — what a loader read from the
// node, from the theft's block on, which must include the story — and
// traces the theft from the thief at the time of the theft under each
// model, with the exchange labelled, checking the taint of every address
// against the amounts worked out below.
func (st *BtcStory) CheckTrace(t testing.TB, transfers []graph.Transfer) {
	t.Helper()
	b := graph.NewBuilder()
	for _, tr := range transfers {
		if err := b.Add(tr); err != nil {
			t.Fatal(err)
		}
	}
	g := b.Build()
	names := map[string]string{}
	for _, w := range []*Wallet{st.Miner, st.Victim, st.Thief, st.Clean, st.Bystander, st.SplitA, st.SplitB, st.SplitC,
		st.Peel0, st.Hop1, st.Hop2, st.Hop3, st.PeelOff1, st.PeelOff2, st.PeelOff3, st.Merged, st.Exchange, st.Memo} {
		names[w.Addr] = w.Name
	}
	for _, s := range append([]*Staged{st.Fund}, st.Staged...) {
		names[s.Node()] = "tx(" + s.Label + ")"
	}
	a := func(w *Wallet) string { return w.Addr }
	thief, ex, merged := a(st.Thief), a(st.Exchange), a(st.Merged)

	// Each transaction is a node between its inputs and its outputs, and
	// entering one is not a hop. The thief's 39.9999 BTC alone funds the
	// split, and peel 1 spends only stolen coins, so everything down to
	// hop 1 and peel-off 1 is stolen under every model.
	//
	// Peel 2 spends 1 BTC clean, then hop 1's 9 stolen. Poison: both
	// outputs in full. Haircut: 90% of each, peel-off 2 1.35 BTC and hop 2
	// 8.4999 × 0.9 = 7.64991. FIFO: the outputs draw the inputs in order,
	// so peel-off 2's 1.5 takes the clean 1 and 0.5 stolen, and hop 2's
	// 8.4999 is all stolen (the fee keeps the last 10,000).
	//
	// Peel 3 spends only hop 2's coin: it passes hop 2's share on, 90%
	// under haircut (hop 3 6.74991, peel-off 3 0.89991), all of it under
	// poison and FIFO.
	//
	// The consolidation spends 3 BTC clean, then hop 3 and the three
	// splits: 40.4999 in, of which 37.4999 stolen by poison and FIFO
	// and 6.74991 + 30 = 36.74991 by haircut. Haircut gives merged
	// 40.4998 × 36.74991 / 40.4999 and the exchange, through merged's
	// single coin, 40.4997 × 36.74991 / 40.4999. FIFO: merged's output
	// draws the 3 clean first, 37.4998 stolen; the deposit keeps that
	// order, 3 clean then 37.4997 stolen to the exchange.
	haircut := func(out float64) float64 { return out * 3_674_991_000 / 4_049_990_000 }
	all := func(v float64) modelWant { return modelWant{v, v, v} }
	c := traceCase{
		name: "bitcoin", seed: thief, start: theftTime(t, transfers, st.Theft.Txid()), exit: ex, names: names,
		stolen: all(3_999_990_000),
		want: map[string]modelWant{
			a(st.SplitA): all(1_000_000_000), a(st.SplitB): all(1_000_000_000), a(st.SplitC): all(1_000_000_000),
			a(st.Peel0):    all(999_980_000),
			a(st.Hop1):     all(900_000_000),
			a(st.PeelOff1): all(99_970_000),
			a(st.PeelOff2): {150_000_000, 135_000_000, 50_000_000},
			a(st.Hop2):     {849_990_000, 764_991_000, 849_990_000},
			a(st.Hop3):     {749_990_000, 674_991_000, 749_990_000},
			a(st.PeelOff3): {99_990_000, 89_991_000, 99_990_000},
			merged:         {4_049_980_000, haircut(4_049_980_000), 3_749_980_000},
			ex:             {4_049_970_000, haircut(4_049_970_000), 3_749_970_000},
		},
		hops: map[string]int{
			a(st.SplitA): 1, a(st.SplitB): 1, a(st.SplitC): 1, a(st.Peel0): 1, a(st.Memo): 1,
			a(st.Hop1): 2, a(st.PeelOff1): 2, merged: 2,
			a(st.Hop2): 3, a(st.PeelOff2): 3, ex: 3,
			a(st.Hop3): 4, a(st.PeelOff3): 4,
		},
		outside: []string{a(st.Miner), a(st.Victim), a(st.Clean), a(st.Bystander)},
	}
	if _, ok := g.Lookup(a(st.Memo)); ok {
		// Read with zero-value outputs kept: poison reaches the memo with
		// nothing, haircut and FIFO carry nothing to it.
		c.want[a(st.Memo)] = modelWant{0, untainted, untainted}
	}
	down := []string{thief, st.Split.Node(), a(st.Peel0), st.Peel1.Node(), a(st.Hop1), st.Peel2.Node()}
	toMerged := append(append([]string{}, down...), a(st.Hop2), st.Peel3.Node(), a(st.Hop3), st.Consolidation.Node(), merged)
	c.paths = map[string][]string{
		ex:             append(append([]string{}, toMerged...), st.Deposit.Node(), ex),
		merged:         toMerged,
		a(st.PeelOff2): append(append([]string{}, down...), a(st.PeelOff2)),
		a(st.SplitB):   {thief, st.Split.Node(), a(st.SplitB)},
	}
	checkTrace(t, g, c)
}
