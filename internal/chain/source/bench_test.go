package source

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/corpus"
)

type countingSink struct{ n int }

func (c *countingSink) Add(graph.Transfer) error { c.n++; return nil }

// synthEthTransactions writes n rows in the column layout of ethereum-etl's
// transactions.csv with receipts: 20,000 distinct addresses with a skew
// toward a few hubs, wei values up to 10^22, ERC-20-call-sized input.
func synthEthTransactions(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	addrs := make([]string, 20000)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("0x%040x", rng.Uint64()<<32|uint64(i))
	}
	pick := func() string {
		if rng.IntN(4) == 0 {
			return addrs[rng.IntN(20)] // hubs
		}
		return addrs[rng.IntN(len(addrs))]
	}
	var b bytes.Buffer
	b.WriteString("hash,nonce,block_hash,block_number,transaction_index,from_address,to_address,value,gas,gas_price,input,block_timestamp,max_fee_per_gas,max_priority_fee_per_gas,transaction_type,receipt_cumulative_gas_used,receipt_gas_used,receipt_contract_address,receipt_root,receipt_status,receipt_effective_gas_price\n")
	input := "0xa9059cbb" + fmt.Sprintf("%064x%064x", 12345, 67890)
	for i := range n {
		block := 16000000 + i/150
		fmt.Fprintf(&b, "0x%016x%016x%016x%016x,%d,0x%064x,%d,%d,%s,%s,%d%018d,21000,30000000000,%s,%d,,,2,21000,21000,,,1,30000000000\n",
			rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64(), i%1000, block, block, i%150,
			pick(), pick(), rng.IntN(10000), rng.Uint64()%1e18, input, 1670000000+block*12)
	}
	return b.Bytes()
}

func synthEthTokenTransfers(n int) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	var b bytes.Buffer
	b.WriteString("token_address,from_address,to_address,value,transaction_hash,log_index,block_number,block_timestamp\n")
	for i := range n {
		block := 16000000 + i/150
		fmt.Fprintf(&b, "0xdac17f958d2ee523a2206206994597c13d831ec7,0x%040x,0x%040x,%d,0x%064x,%d,%d,%d\n",
			rng.IntN(20000), rng.IntN(20000), rng.Uint64(), i/2, i%7, block, 1670000000+block*12)
	}
	return b.Bytes()
}

func benchRead(b *testing.B, name string, data []byte, rows int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var l Loader
	for b.Loop() {
		sink := &countingSink{}
		st, err := l.Read(context.Background(), bytes.NewReader(data), name, sink)
		if err != nil || st.Bad != 0 || int(st.Rows) != rows {
			b.Fatalf("%v; %d rows, %d bad", err, st.Rows, st.Bad)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkEthereumETLTransactions(b *testing.B) {
	const n = 100000
	benchRead(b, "transactions.csv", synthEthTransactions(n), n)
}

func BenchmarkEthereumETLTokenTransfers(b *testing.B) {
	const n = 100000
	benchRead(b, "token_transfers.csv", synthEthTokenTransfers(n), n)
}

func BenchmarkGroundTruth(b *testing.B) {
	data, err := os.ReadFile(corpus.Path(b, "chain/mftracer_ground_truth/HB-HB.csv"))
	if err != nil {
		b.Fatal(err)
	}
	benchRead(b, "HB-HB.csv", data, 3887)
}

func BenchmarkGEXFBybit(b *testing.B) {
	data, err := os.ReadFile(corpus.Path(b, "chain/bybit_incident_tna/transaction_network.gexf"))
	if err != nil {
		b.Fatal(err)
	}
	benchRead(b, "bybit.gexf", data, 14416)
}
