package ethrpc

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const (
	aPool  = "0x3333333333333333333333333333333333333333"
	aProxy = "0x5555555555555555555555555555555555555555"
	aImpl  = "0x6666666666666666666666666666666666666666"
	aTo1   = "0x1111111111111111111111111111111111111111"
	aTo2   = "0x2222222222222222222222222222222222222222"
	aTo3   = "0x7777777777777777777777777777777777777777"
	aNew   = "0x8888888888888888888888888888888888888888"
	aHeir  = "0x9999999999999999999999999999999999999999"
)

// callTree is a callTracer result as geth gives it for a relayer's call
// into a pool that pays out, through a proxy, and then some.
const callTree = `{"type":"CALL","from":"0x4444444444444444444444444444444444444444","to":"` + aPool + `","value":"0x0","calls":[
	{"type":"CALL","from":"` + aPool + `","to":"` + aTo1 + `","value":"0x2b5e3af16b1880000"},
	{"type":"DELEGATECALL","from":"` + aPool + `","to":"` + aImpl + `","value":"0x5","calls":[
		{"type":"CALL","from":"` + aPool + `","to":"` + aTo2 + `","value":"0x10"},
		{"type":"STATICCALL","from":"` + aPool + `","to":"` + aProxy + `"}]},
	{"type":"CALL","from":"` + aPool + `","to":"` + aTo3 + `","value":"0x7","error":"execution reverted","calls":[
		{"type":"CALL","from":"` + aTo3 + `","to":"` + aTo1 + `","value":"0x7"}]},
	{"type":"CALL","from":"` + aPool + `","to":"` + aTo3 + `","value":"0x0"},
	{"type":"CREATE2","from":"` + aPool + `","to":"` + aNew + `","value":"0x3","calls":[
		{"type":"SELFDESTRUCT","from":"` + aNew + `","to":"` + aHeir + `","value":"0x3"}]},
	{"type":"CALLCODE","from":"` + aPool + `","to":"` + aImpl + `","value":"0x9"}
]}`

func TestInternalTransfers(t *testing.T) {
	tx := "0x" + strings.Repeat("cd", 32)
	var root rpcFrame
	if err := json.Unmarshal([]byte(callTree), &root); err != nil {
		t.Fatal(err)
	}
	frames := 0
	got, failed, err := internalTransfers(nil, 3, tx, &root, &frames)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, v := range got {
		if v.index != 3 || v.hash != tx || !v.internal {
			t.Errorf("transfer %+v: want index 3, tx %s, internal", v, tx)
		}
		lines = append(lines, v.from+">"+v.to+":"+v.amount.String())
	}
	// In call order, a frame before its subcalls.
	want := []string{
		aPool + ">" + aTo1 + ":50000000000000000000", // a plain payout
		aPool + ">" + aTo2 + ":16",                   // paid by code run through delegatecall: from the pool
		aPool + ">" + aNew + ":3",                    // a new contract's endowment
		aNew + ">" + aHeir + ":3",                    // its selfdestruct
	}
	if strings.Join(lines, " ") != strings.Join(want, " ") {
		t.Errorf("transfers\n  %s\nwant\n  %s", strings.Join(lines, "\n  "), strings.Join(want, "\n  "))
	}
	// The reverted payout counts as failed; what ran inside it is undone
	// with it and not counted again.
	if failed != 1 {
		t.Errorf("%d failed, want 1", failed)
	}
	// Six frames under the root, two under the delegatecall, one under
	// the creation; the reverted frame's subcall is not read.
	if frames != 9 {
		t.Errorf("%d frames read, want 9", frames)
	}

	// A transaction that failed as a whole moved nothing.
	root.Error = "out of gas"
	if got, failed, err := internalTransfers(nil, 0, tx, &root, &frames); len(got) != 0 || failed != 0 || err != nil {
		t.Errorf("reverted transaction: %d transfers, %d failed, %v", len(got), failed, err)
	}
}

func TestInternalTransfersHostile(t *testing.T) {
	for _, tc := range []struct {
		name, frame, want string
	}{
		{"bad value", `{"type":"CALL","from":"` + aPool + `","to":"` + aTo1 + `","value":"0xzz"}`, "frame /0: value"},
		{"decimal value", `{"type":"CALL","from":"` + aPool + `","to":"` + aTo1 + `","value":"12"}`, "want a 0x quantity"},
		{"over 256 bits", `{"type":"CALL","from":"` + aPool + `","to":"` + aTo1 + `","value":"0x1` + strings.Repeat("0", 64) + `"}`, "frame /0: value"},
		{"no from", `{"type":"CALL","to":"` + aTo1 + `","value":"0x1"}`, "frame /0: from"},
		{"short to", `{"type":"CALL","from":"` + aPool + `","to":"0x12","value":"0x1"}`, "frame /0: to"},
		{"unknown type", `{"type":"JUMP\u001b[31m","from":"` + aPool + `","to":"` + aTo1 + `"}`, "is no EVM call"},
		{"deep", `{"type":"CALL","from":"` + aPool + `","to":"` + aTo1 + `","calls":[{"type":"CALL","from":"` + aPool + `","to":"` + aTo1 + `","value":"0x1x"}]}`, "frame /0/0: value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var root rpcFrame
			if err := json.Unmarshal([]byte(`{"type":"CALL","calls":[`+tc.frame+`]}`), &root); err != nil {
				t.Fatal(err)
			}
			frames := 0
			_, _, err := internalTransfers(nil, 0, "0x", &root, &frames)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\x1b\n") {
				t.Errorf("error carries control characters: %q", err)
			}
		})
	}
}

// A node without the debug API fails the sync with a message that says
// what to do, before anything is emitted or saved.
func TestInternalNeedsDebugAPI(t *testing.T) {
	f := storyChain()
	cfg := fastConfig(f.start(t))
	cfg.Internal = true
	cfg.StatePath = t.TempDir() + "/state"
	sink := &sliceSink{}
	_, err := mustLoader(t, cfg).Sync(context.Background(), sink)
	var re *RPCError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "debug API") || !strings.Contains(err.Error(), "debug_traceBlockByNumber") {
		t.Fatalf("error %v, want the node's refusal and a hint at the debug API", err)
	}
	if len(sink.got) != 0 {
		t.Errorf("%d transfers emitted", len(sink.got))
	}
}

func FuzzInternalTransfers(f *testing.F) {
	f.Add([]byte(callTree))
	f.Add([]byte(`{"type":"CALL","calls":[{"type":"SELFDESTRUCT","from":"` + aNew + `","to":"` + aHeir + `","value":"0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var root rpcFrame
		if json.Unmarshal(data, &root) != nil {
			return
		}
		frames := 0
		got, failed, err := internalTransfers(nil, 1, "0xtx", &root, &frames)
		if err != nil {
			return
		}
		if failed < 0 || frames > maxFrames {
			t.Fatalf("failed %d, frames %d", failed, frames)
		}
		for _, v := range got {
			if v.amount.IsZero() || len(v.from) != 42 || len(v.to) != 42 || !v.internal {
				t.Fatalf("accepted bad transfer %+v", v)
			}
		}
	})
}
