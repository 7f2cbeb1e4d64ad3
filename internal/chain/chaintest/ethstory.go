package chaintest

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// EthStory is a theft and its laundering staged on a dev chain, each step
// its own transaction and block:
//
//	before the theft  dev → victim 100,000 mETH and 2,500,000 USDT (a
//	                  6-decimal token deployed for the story, with 1000 wei
//	                  attached); clean funds at three addresses the
//	                  launderers use later: dev → hop 1 4,200 mETH, dev →
//	                  consolidation 6,600 mETH, dev → mule 500,000 USDT
//	theft             victim → thief 99,500 mETH, then 2,500,000 USDT
//	unrelated         dev → bystander 1,000 mETH
//	splits            thief → split 0, 1, 2: 30,000, 30,000, 39,000 mETH
//	peel chain        split 2 = hop 0 → peel 0 1,000, → hop 1 37,800
//	                  hop 1 → peel 1 2,000, → hop 2 39,900
//	                  hop 2 → peel 2 3,000, → hop 3 36,800
//	consolidation     hop 3 → consolidation 36,700 (first, so the first
//	                  taint it gets came down the peel chain), then split 0
//	                  and split 1 → consolidation 29,700 each
//	deposit           consolidation → exchange 95,000 mETH
//	ERC-20 leg        thief → mule 100 mETH for gas, thief → mule
//	                  2,500,000 USDT, mule → exchange 2,400,000 USDT
//	noise             ether sent to the token (reverts), a zero-value
//	                  payment, a token transfer beyond the balance
//	                  (reverts), an ERC-721-shaped Transfer and a
//	                  zero-amount ERC-20 Transfer: none is a transfer
//	mixing pool       dev deploys the pool (pool.go) and funds a relayer
//	                  with 50 mETH; the bystander deposits 300 mETH of
//	                  clean funds, peel 0 900 stolen; the relayer calls
//	                  withdraw, and the pool pays the recipient 800 mETH,
//	                  an internal transfer that only traces show; a second
//	                  withdrawal, to the token, fails inside a successful
//	                  transaction and moves nothing
//
// Each sender keeps a little for gas, which no transfer records. mETH is a
// thousandth of an ether, 10^15 wei.
type EthStory struct {
	URL    string
	Stager *EthStager
	Dev    string
	Token  common.Address
	// The participants.
	Victim, Thief, Mule, Exchange, Consol, Bystander Party
	Splits                                           [3]Party
	Hops                                             [4]Party // the peel chain; Hops[0] is Splits[2]
	Peels                                            [3]Party
	// The mixing pool, the relayer who calls its withdraw and the
	// recipient it pays.
	Pool               common.Address
	Relayer, Recipient Party
	// TheftTx and TokenTheftTx move the victim's ether and tokens.
	TheftTx, TokenTheftTx string
	// Want lists every transfer the node must report, in staging order.
	Want []graph.Transfer
}

// TokenHex is the token contract, as transfers name the asset.
func (st *EthStory) TokenHex() string { return lower(st.Token.Hex()) }

// PoolHex is the mixing pool's address in canonical form.
func (st *EthStory) PoolHex() string { return lower(st.Pool.Hex()) }

// StageEth stages the story on the dev node at url.
func StageEth(t testing.TB, ctx context.Context, url string) *EthStory {
	t.Helper()
	s := NewEthStager(t, ctx, url)
	st := &EthStory{URL: url, Stager: s, Dev: s.Dev,
		Victim: NewParty(t), Thief: NewParty(t), Mule: NewParty(t), Exchange: NewParty(t),
		Consol: NewParty(t), Bystander: NewParty(t), Relayer: NewParty(t), Recipient: NewParty(t)}
	for i := range st.Splits {
		st.Splits[i] = NewParty(t)
	}
	st.Hops[0] = st.Splits[2]
	for i := 1; i < len(st.Hops); i++ {
		st.Hops[i] = NewParty(t)
	}
	for i := range st.Peels {
		st.Peels[i] = NewParty(t)
	}
	dev := s.Dev
	fromDev := func(to Party, milli int64) {
		t.Helper()
		tx, r := s.FromDev(&to.Addr, Milli(milli), nil)
		s.Expect(tx, r, dev, to.Hex(), "", Milli(milli))
	}

	// Before the theft.
	fromDev(st.Victim, 100_000)
	supply := USDT(5_000_000)
	tx, r := s.FromDev(nil, big.NewInt(1000), TokenInit(supply))
	if r.ContractAddress == nil {
		t.Fatal("token deployment has no contract address")
	}
	st.Token = common.HexToAddress(*r.ContractAddress)
	tok := st.TokenHex()
	s.Expect(tx, r, dev, tok, "", big.NewInt(1000))
	s.Expect(tx, r, "0x0000000000000000000000000000000000000000", dev, tok, supply) // the mint
	fromDevToken := func(to Party, n int64) {
		t.Helper()
		tx, r := s.FromDev(&st.Token, new(big.Int), TokenTransfer(to.Addr, USDT(n)))
		s.Expect(tx, r, dev, to.Hex(), tok, USDT(n))
	}
	fromDevToken(st.Victim, 2_500_000)
	fromDev(st.Hops[1], 4_200)
	fromDev(st.Consol, 6_600)
	fromDevToken(st.Mule, 500_000)

	// The theft, and an unrelated payment inside the traced window.
	st.TheftTx = s.pay(st.Victim, st.Thief, 99_500)
	st.TokenTheftTx = s.payToken(st.Token, st.Victim, st.Thief, 2_500_000)
	fromDev(st.Bystander, 1_000)

	// Splits, peel chain, consolidation, deposit.
	for i, v := range []int64{30_000, 30_000, 39_000} {
		s.pay(st.Thief, st.Splits[i], v)
	}
	s.pay(st.Hops[0], st.Peels[0], 1_000)
	s.pay(st.Hops[0], st.Hops[1], 37_800)
	s.pay(st.Hops[1], st.Peels[1], 2_000)
	s.pay(st.Hops[1], st.Hops[2], 39_900)
	s.pay(st.Hops[2], st.Peels[2], 3_000)
	s.pay(st.Hops[2], st.Hops[3], 36_800)
	s.pay(st.Hops[3], st.Consol, 36_700)
	s.pay(st.Splits[0], st.Consol, 29_700)
	s.pay(st.Splits[1], st.Consol, 29_700)
	s.pay(st.Consol, st.Exchange, 95_000)

	// The ERC-20 leg.
	s.pay(st.Thief, st.Mule, 100)
	s.payToken(st.Token, st.Thief, st.Mule, 2_500_000)
	s.payToken(st.Token, st.Mule, st.Exchange, 2_400_000)

	// Noise that must not become transfers.
	status := func(what, want string, r Receipt) {
		t.Helper()
		if r.Status != want {
			t.Fatalf("%s: status %s, want %s", what, r.Status, want)
		}
	}
	_, r = s.Send(st.Thief.Key, st.Token, Milli(200), nil, TokenGas)
	status("ether sent to the token", "0x0", r)
	_, r = s.Send(st.Thief.Key, st.Splits[0].Addr, new(big.Int), nil, 21_000)
	status("zero-value payment", "0x1", r)
	_, r = s.Send(st.Mule.Key, st.Token, new(big.Int), TokenTransfer(st.Exchange.Addr, USDT(600_001)), TokenGas)
	status("token transfer beyond the mule's 600,000", "0x0", r)
	_, r = s.Send(st.Thief.Key, st.Token, new(big.Int), TokenNFTTransfer(st.Thief.Addr, st.Exchange.Addr, 7), TokenGas)
	status("ERC-721-shaped transfer", "0x1", r)
	_, r = s.Send(st.Thief.Key, st.Token, new(big.Int), TokenTransfer(st.Victim.Addr, new(big.Int)), TokenGas)
	status("zero-amount token transfer", "0x1", r)

	// The mixing pool.
	_, r = s.FromDev(nil, new(big.Int), PoolInit())
	if r.ContractAddress == nil {
		t.Fatal("pool deployment has no contract address")
	}
	st.Pool = common.HexToAddress(*r.ContractAddress)
	fromDev(st.Relayer, 50)
	for _, d := range []struct {
		from  Party
		milli int64
	}{{st.Bystander, 300}, {st.Peels[0], 900}} {
		tx, r := s.Send(d.from.Key, st.Pool, Milli(d.milli), nil, PoolGas)
		s.Expect(tx, r, d.from.Hex(), st.PoolHex(), "", Milli(d.milli))
	}
	tx, r = s.Send(st.Relayer.Key, st.Pool, new(big.Int), PoolWithdraw(st.Recipient.Addr, Milli(800)), PoolGas)
	s.Expect(tx, r, st.PoolHex(), st.Recipient.Hex(), "", Milli(800))
	_, r = s.Send(st.Relayer.Key, st.Pool, new(big.Int), PoolWithdraw(st.Token, Milli(100)), PoolGas)
	status("withdrawal to the token, which refuses ether", "0x1", r)

	st.Want = s.Want
	return st
}

// mETH in wei, as the graph counts ether.
func meth(n float64) float64 { return n * 1e15 }

// usdt in token base units.
func usdt(n float64) float64 { return n * 1e6 }

// CheckTrace builds graphs from transfers — what a loader read from the
// node, which must include the story — and traces the theft from the
// thief at the time of the theft under each model, with the exchange
// labelled, checking the taint of every address against the amounts worked
// out below. The tracer adds amounts whatever their asset, so ether and the
// token are traced in graphs of their own, as an analyst would.
func (st *EthStory) CheckTrace(t testing.TB, transfers []graph.Transfer) {
	t.Helper()
	start := theftTime(t, transfers, st.TheftTx)
	ether, token := graph.NewBuilder(), graph.NewBuilder()
	for _, tr := range transfers {
		b := ether
		if tr.Asset != "" {
			b = token
		}
		if err := b.Add(tr); err != nil {
			t.Fatal(err)
		}
	}
	names := map[string]string{
		st.Dev: "dev", st.Victim.Hex(): "victim", st.Thief.Hex(): "thief", st.Mule.Hex(): "mule",
		st.Exchange.Hex(): "exchange", st.Consol.Hex(): "consolidation", st.Bystander.Hex(): "bystander",
		st.TokenHex(): "token", "0x0000000000000000000000000000000000000000": "zero address",
		st.Splits[0].Hex(): "split 0", st.Splits[1].Hex(): "split 1", st.Splits[2].Hex(): "split 2 (hop 0)",
		st.Hops[1].Hex(): "hop 1", st.Hops[2].Hex(): "hop 2", st.Hops[3].Hex(): "hop 3",
		st.Peels[0].Hex(): "peel 0", st.Peels[1].Hex(): "peel 1", st.Peels[2].Hex(): "peel 2",
		st.PoolHex(): "pool", st.Relayer.Hex(): "relayer", st.Recipient.Hex(): "recipient",
	}
	thief, ex := st.Thief.Hex(), st.Exchange.Hex()
	s0, s1, s2 := st.Splits[0].Hex(), st.Splits[1].Hex(), st.Splits[2].Hex()
	h1, h2, h3 := st.Hops[1].Hex(), st.Hops[2].Hex(), st.Hops[3].Hex()
	p0, p1, p2 := st.Peels[0].Hex(), st.Peels[1].Hex(), st.Peels[2].Hex()
	consol, mule := st.Consol.Hex(), st.Mule.Hex()
	pool, recip := st.PoolHex(), st.Recipient.Hex()

	// Ether, in mETH.
	//
	// Poison: every transfer out of a tainted address carries its full
	// value, so each address's taint is the sum of the transfers it got
	// from tainted senders (not the dev's clean ones).
	//
	// Haircut: a payment carries the payer's tainted share. The splits,
	// peel 0 and the mule hold only stolen funds. Hop 1 held 4,200 clean
	// before 37,800 stolen arrived: 37,800 / 42,000 = 90% tainted, so
	// peel 1 gets 2,000 × 0.9 = 1,800 and hop 2 39,900 × 0.9 = 35,910;
	// hop 2 and hop 3 hold nothing else and pass 90% on: peel 2 2,700,
	// hop 3 36,800 × 0.9 = 33,120, the consolidation 36,700 × 0.9 =
	// 33,030. The consolidation then holds 6,600 clean + 36,700 + 29,700
	// + 29,700 = 102,700, of which 33,030 + 59,400 = 92,430 tainted, again
	// 90%: the exchange gets 95,000 × 0.9 = 85,500.
	//
	// FIFO: hop 1's ledger is 4,200 clean then 37,800 stolen. Peel 1's
	// 2,000 comes out of the clean lot (peel 1 stays clean); hop 2's 39,900
	// takes the remaining 2,200 clean and 37,700 stolen, in that order, so
	// peel 2's 3,000 is 2,200 clean and 800 stolen and hop 3's 36,800 all
	// stolen, as is hop 3's 36,700 to the consolidation. The
	// consolidation's 95,000 deposit takes its 6,600 clean first: 88,400.
	//
	// The pool gets 900 stolen from peel 0 after 300 clean from the
	// bystander, and pays the recipient 800: poison all of it; haircut
	// 800 × 900 / 1,200 = 600; FIFO the 300 clean first, so 500.
	//
	// Hops count transfers from the thief, over the shortest tainted
	// route: the consolidation is 2 (via split 0) though its first taint
	// came down the peel chain, the exchange 3. Every model follows the
	// same first-taint path to the exchange.
	m := func(p, h, f float64) modelWant { return modelWant{meth(p), meth(h), meth(f)} }
	all := func(v float64) modelWant { return m(v, v, v) }
	etherCase := traceCase{
		name: "ether", seed: thief, start: start, exit: ex, names: names,
		stolen: all(30_000 + 30_000 + 39_000 + 100),
		want: map[string]modelWant{
			s0: all(30_000), s1: all(30_000), s2: all(39_000),
			p0:     all(1_000),
			h1:     all(37_800),
			p1:     {meth(2_000), meth(1_800), untainted},
			h2:     m(39_900, 35_910, 37_700),
			p2:     m(3_000, 2_700, 800),
			h3:     m(36_800, 33_120, 36_800),
			consol: m(36_700+29_700+29_700, 33_030+29_700+29_700, 36_700+29_700+29_700),
			ex:     m(95_000, 85_500, 88_400),
			mule:   all(100),
			pool:   all(900),
			recip:  m(800, 600, 500),
		},
		hops: map[string]int{s0: 1, s1: 1, s2: 1, mule: 1, p0: 2, h1: 2, consol: 2, p1: 3, h2: 3, ex: 3, p2: 4, h3: 4, pool: 3, recip: 4},
		paths: map[string][]string{
			ex:     {thief, s2, h1, h2, h3, consol, ex},
			consol: {thief, s2, h1, h2, h3, consol},
			p2:     {thief, s2, h1, h2, p2},
			p0:     {thief, s2, p0},
			recip:  {thief, s2, p0, pool, recip},
		},
		outside: []string{st.Dev, st.Victim.Hex(), st.Bystander.Hex(), st.TokenHex(), st.Relayer.Hex()},
	}
	checkTrace(t, ether.Build(), etherCase)

	// The token, in whole USDT. The mule held 500,000 clean before the
	// thief's 2,500,000 arrived and pays the exchange 2,400,000: poison
	// all of it; haircut 2,400,000 × 2,500,000 / 3,000,000 = 2,000,000;
	// FIFO the 500,000 clean first, so 1,900,000.
	u := func(p, h, f float64) modelWant { return modelWant{usdt(p), usdt(h), usdt(f)} }
	tokenCase := traceCase{
		name: "token", seed: thief, start: start, exit: ex, names: names,
		stolen: u(2_500_000, 2_500_000, 2_500_000),
		want: map[string]modelWant{
			mule: u(2_500_000, 2_500_000, 2_500_000),
			ex:   u(2_400_000, 2_000_000, 1_900_000),
		},
		hops:    map[string]int{mule: 1, ex: 2},
		paths:   map[string][]string{ex: {thief, mule, ex}},
		outside: []string{st.Dev, st.Victim.Hex(), "0x0000000000000000000000000000000000000000"},
	}
	checkTrace(t, token.Build(), tokenCase)
}
