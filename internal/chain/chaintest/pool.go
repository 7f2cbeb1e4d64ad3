package chaintest

import (
	"encoding/hex"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The story's mixing pool is a contract that pays out from the ether all
// its depositors put in, as mixers do: what leaves it is an internal
// transfer made by the contract, inside a transaction someone else (a
// relayer) sends. Assembled by hand like the token, with two entry points:
//
//	plain ether (no call data)             a deposit; the pool keeps it
//	withdraw(address to, uint256 amount)   pays amount to to out of the pool
//
// A payout that fails (to refuses ether) is ignored and the pool keeps the
// ether, so a failed call frame sits inside a successful transaction.
// Anyone may withdraw: access control is beside the point of the test.

// PoolGas is the gas limit the story gives pool calls: as with storage
// slots (TokenGas), newer forks price the creation of an account, which a
// payout to a fresh address is, far above the Yellow Paper's 25,000.
const PoolGas = 1_000_000

var selWithdraw = hex.EncodeToString(crypto.Keccak256([]byte("withdraw(address,uint256)"))[:4])

func poolRuntime() []byte {
	a := newAsm()
	a.op(opCALLDATASIZE).pushLabel("withdraw").op(opJUMPI)
	a.op(opSTOP) // a deposit
	a.label("withdraw")
	a.pushInt(68).op(opCALLDATASIZE, opLT).pushLabel("revert").op(opJUMPI)
	a.pushInt(0).op(opCALLDATALOAD).pushInt(0xe0).op(opSHR).pushHex(selWithdraw).op(opEQ, opISZERO).pushLabel("revert").op(opJUMPI)
	// CALL(gas, to, amount, in 0, in size 0, out 0, out size 0); the
	// arguments go on the stack last first.
	a.pushInt(0).pushInt(0).pushInt(0).pushInt(0)
	a.pushInt(36).op(opCALLDATALOAD)                               // amount
	a.pushInt(4).op(opCALLDATALOAD).pushHex(addressMask).op(opAND) // to
	a.op(opGAS, opCALL, opPOP, opSTOP)
	a.label("revert").pushInt(0).op(opDUP1, opREVERT)
	return a.bytes()
}

// PoolInit is the pool's deployment code.
func PoolInit() []byte { return initCode(poolRuntime(), func(*asm) {}) }

// PoolWithdraw is the call data of withdraw(to, amount).
func PoolWithdraw(to common.Address, amount *big.Int) []byte {
	return callData(selWithdraw, to.Bytes(), amount.Bytes())
}
