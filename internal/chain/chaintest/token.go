package chaintest

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// TransferTopic is topic 0 of the ERC-20 and ERC-721 Transfer event:
// keccak256("Transfer(address,address,uint256)").
var TransferTopic = "0x" + hex.EncodeToString(crypto.Keccak256([]byte("Transfer(address,address,uint256)")))

// TokenGas is the gas limit the story gives token calls: newer forks price
// the creation of a storage slot far above the Yellow Paper's 20,000.
const TokenGas = 1_000_000

// TokenTransfer is the call data of transfer(to, amount).
func TokenTransfer(to common.Address, amount *big.Int) []byte {
	return callData(selTransfer, to[:], amount.Bytes())
}

// TokenNFTTransfer is the call data of the token's transferFrom(from, to,
// id), which only emits an ERC-721-shaped Transfer.
func TokenNFTTransfer(from, to common.Address, id int64) []byte {
	return callData(selTransferFrom, from[:], to[:], big.NewInt(id).Bytes())
}

// There is no Solidity compiler here, so the test token is assembled by
// hand. It keeps balances in storage slot = holder address and has two
// entry points, both non-payable:
//
//	transfer(address to, uint256 amount)            0xa9059cbb
//	    moves amount from the caller, emits the ERC-20 Transfer(from, to,
//	    amount) with three topics, returns true; reverts when the balance is
//	    short, so a failed transfer emits nothing.
//	transferFrom(address, address to, uint256 id)   0x23b872dd
//	    only emits an ERC-721-shaped Transfer(caller, to, id) with four
//	    topics, so the test can check those are skipped.
//
// Anything else, including plain value sent to it, reverts. The constructor
// credits the whole supply to the deployer and emits the mint
// Transfer(0x0, deployer, supply).

// opcode is an EVM instruction; only those the token uses are named
// (values from the Yellow Paper, appendix H).
type opcode byte

const (
	opSTOP         opcode = 0x00
	opADD          opcode = 0x01
	opSUB          opcode = 0x03
	opLT           opcode = 0x10
	opEQ           opcode = 0x14
	opAND          opcode = 0x16
	opSHR          opcode = 0x1c
	opCALLER       opcode = 0x33
	opCALLVALUE    opcode = 0x34
	opCALLDATALOAD opcode = 0x35
	opCALLDATASIZE opcode = 0x36
	opISZERO       opcode = 0x15
	opGAS          opcode = 0x5a
	opCALL         opcode = 0xf1
	opCODECOPY     opcode = 0x39
	opPOP          opcode = 0x50
	opMSTORE       opcode = 0x52
	opSLOAD        opcode = 0x54
	opSSTORE       opcode = 0x55
	opJUMPI        opcode = 0x57
	opJUMPDEST     opcode = 0x5b
	opPUSH1        opcode = 0x60
	opPUSH2        opcode = 0x61
	opDUP1         opcode = 0x80
	opDUP2         opcode = 0x81
	opDUP3         opcode = 0x82
	opSWAP1        opcode = 0x90
	opLOG3         opcode = 0xa3
	opLOG4         opcode = 0xa4
	opRETURN       opcode = 0xf3
	opREVERT       opcode = 0xfd
)

// asm is a tiny assembler with forward labels.
type asm struct {
	code   []byte
	labels map[string]int
	fixups map[int]string // offset of a PUSH2 operand → label
}

func newAsm() *asm { return &asm{labels: map[string]int{}, fixups: map[int]string{}} }

func (a *asm) op(ops ...opcode) *asm {
	for _, o := range ops {
		a.code = append(a.code, byte(o))
	}
	return a
}

// push emits the shortest PUSHn for b (1..32 bytes).
func (a *asm) push(b []byte) *asm {
	if len(b) == 0 || len(b) > 32 {
		panic("push of 0 or more than 32 bytes")
	}
	a.code = append(a.code, byte(opPUSH1)+byte(len(b)-1))
	a.code = append(a.code, b...)
	return a
}

func (a *asm) pushInt(v uint64) *asm {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	i := 0
	for i < 7 && b[i] == 0 {
		i++
	}
	return a.push(b[i:])
}

func (a *asm) pushHex(h string) *asm {
	b, err := hex.DecodeString(h)
	if err != nil {
		panic(err)
	}
	return a.push(b)
}

// push2 pushes v with PUSH2 whatever its size, so code length is fixed.
func (a *asm) push2(v int) *asm {
	a.code = append(a.code, byte(opPUSH2), byte(v>>8), byte(v))
	return a
}

// pushLabel pushes the code offset of a label, resolved in bytes().
func (a *asm) pushLabel(name string) *asm {
	a.code = append(a.code, byte(opPUSH2))
	a.fixups[len(a.code)] = name
	a.code = append(a.code, 0, 0)
	return a
}

func (a *asm) label(name string) *asm {
	a.labels[name] = len(a.code)
	return a.op(opJUMPDEST)
}

func (a *asm) bytes() []byte {
	for off, name := range a.fixups {
		at, ok := a.labels[name]
		if !ok {
			panic("undefined label " + name)
		}
		binary.BigEndian.PutUint16(a.code[off:], uint16(at))
	}
	return a.code
}

const (
	selTransfer     = "a9059cbb"
	selTransferFrom = "23b872dd"
	addressMask     = "ffffffffffffffffffffffffffffffffffffffff"
)

func tokenRuntime() []byte {
	t0 := TransferTopic[2:]
	a := newAsm()
	// Non-payable.
	a.op(opCALLVALUE).pushLabel("revert").op(opJUMPI)
	// selector := calldata[0:4]
	a.pushInt(0).op(opCALLDATALOAD).pushInt(0xe0).op(opSHR)
	a.op(opDUP1).pushHex(selTransfer).op(opEQ).pushLabel("transfer").op(opJUMPI)
	a.op(opDUP1).pushHex(selTransferFrom).op(opEQ).pushLabel("nft").op(opJUMPI)
	a.label("revert").pushInt(0).op(opDUP1, opREVERT)

	// transfer(to, amount). Stack comments list the top last.
	a.label("transfer").op(opPOP)
	a.pushInt(68).op(opCALLDATASIZE, opLT).pushLabel("revert").op(opJUMPI)
	a.pushInt(4).op(opCALLDATALOAD).pushHex(addressMask).op(opAND) // to
	a.pushInt(36).op(opCALLDATALOAD)                               // to amt
	a.op(opCALLER, opSLOAD)                                        // to amt bal
	a.op(opDUP2, opDUP2, opLT).pushLabel("revert").op(opJUMPI)     // bal < amt → revert
	a.op(opDUP2, opSWAP1, opSUB)                                   // to amt bal-amt
	a.op(opCALLER, opSSTORE)                                       // to amt
	a.op(opDUP2, opSLOAD, opDUP2, opADD)                           // to amt bal[to]+amt
	a.op(opDUP3, opSSTORE)                                         // to amt
	a.pushInt(0).op(opMSTORE)                                      // to; mem[0:32] = amt
	a.op(opCALLER).pushHex(t0).pushInt(32).pushInt(0).op(opLOG3)
	a.pushInt(1).pushInt(0).op(opMSTORE).pushInt(32).pushInt(0).op(opRETURN)

	// transferFrom(from, to, id): LOG4 with no data.
	a.label("nft").op(opPOP)
	a.pushInt(100).op(opCALLDATASIZE, opLT).pushLabel("revert").op(opJUMPI)
	a.pushInt(68).op(opCALLDATALOAD)                                // id
	a.pushInt(36).op(opCALLDATALOAD).pushHex(addressMask).op(opAND) // id to
	a.op(opCALLER).pushHex(t0).pushInt(0).pushInt(0).op(opLOG4)
	a.op(opSTOP)
	return a.bytes()
}

// TokenInit returns the deployment code: mint supply to the deployer, then
// return the runtime code.
func TokenInit(supply *big.Int) []byte {
	s := supply.FillBytes(make([]byte, 32))
	return initCode(tokenRuntime(), func(a *asm) {
		a.push(s).op(opCALLER, opSSTORE)
		a.push(s).pushInt(0).op(opMSTORE)
		a.op(opCALLER).pushInt(0).pushHex(TransferTopic[2:]).pushInt(32).pushInt(0).op(opLOG3)
	})
}

// initCode is deployment code that runs constructor, then returns runtime,
// which follows the init code.
func initCode(runtime []byte, constructor func(a *asm)) []byte {
	build := func(initLen int) []byte {
		a := newAsm()
		constructor(a)
		a.push2(len(runtime)).op(opDUP1).push2(initLen)
		a.pushInt(0).op(opCODECOPY).pushInt(0).op(opRETURN)
		return a.bytes()
	}
	// The init code's length does not depend on the offset it embeds
	// (push2), so build once to measure and once for real.
	n := len(build(0))
	code := build(n)
	if len(code) != n {
		panic(fmt.Sprintf("init code length changed: %d then %d", n, len(code)))
	}
	return append(code, runtime...)
}

// callData encodes selector(address, uint256) or selector(address, address,
// uint256) arguments as 32-byte words.
func callData(selector string, words ...[]byte) []byte {
	out, _ := hex.DecodeString(selector)
	for _, w := range words {
		var word [32]byte
		copy(word[32-len(w):], w)
		out = append(out, word[:]...)
	}
	return out
}
