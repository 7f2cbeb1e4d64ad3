// Package btcrpc loads Bitcoin transfers from a node's JSON-RPC interface
// (Bitcoin Core or btcd) into a transfer graph, block by block, continuing
// from a saved height.
//
// # Requests
//
// For each height: getblockhash, then getblock with verbosity 3 (Bitcoin
// Core 23 and later include every input's spent output; older Core and btcd
// treat 3 as 2, full transactions without them). A node that refuses the
// verbosity as a bad parameter is asked one level lower; at verbosity 1 the
// transactions are fetched one by one with getrawtransaction. Blocks are
// fetched ahead, Config.Concurrency at a time, and processed in order. Only
// blocks with at least Config.Confirmations confirmations are loaded.
//
// Requests are JSON-RPC 1.0 over HTTP with Basic authentication (rpcuser
// and rpcpassword, or Core's cookie file). Transport failures, HTTP 5xx and
// 429 (honouring Retry-After), and a node still warming up (-28) are retried
// with exponential backoff and jitter. Bitcoin Core reports RPC errors with
// HTTP 500 and an error body; those are the node's answer and are not
// retried. Each answer is bounded by Config.MaxResponseBytes. Errors name
// the method and the block height.
//
// # Transfers: the UTXO convention
//
// Bitcoin has no transfers from one address to another, only transactions
// that spend outputs and create new ones. Each transaction becomes a node
// "tx:<txid>" (TxNode) between its inputs and its outputs:
//
//   - one transfer per input, from the address of the output it spends to
//     "tx:<txid>", of that output's value, in input order;
//   - then one transfer per output, from "tx:<txid>" to the output's
//     address, of its value, in output order.
//
// Every transfer carries the txid, the block height and the block time
// (the header's time, Unix seconds); amounts are in satoshi. Coinbase
// inputs create money and have no transfer; fees are the difference between
// a transaction's inputs and its outputs. The bitcoin-etl file loader uses
// the same convention, so a trace runs the same over either source.
//
// Inputs do not carry their spent output at verbosity 2, so the loader
// resolves them from, in turn: the block's own earlier outputs, the spent
// output given at verbosity 3, a map of the unspent outputs loaded so far
// (bounded by Config.MaxOutpoints), and getrawtransaction for outputs
// created before the loaded range. The last needs a node with a
// transaction index (Core -txindex, btcd --txindex) unless it gives
// verbosity 3; without one, a run starting mid-chain fails on the first
// input it cannot resolve, naming the height.
//
// # Addresses
//
// Addresses are derived from the output script (scriptPubKey hex), not
// taken from the node, whose answers differ between implementations and
// versions. The network (from getblockchaininfo, or Config.Network) selects
// the encoding: mainnet, testnet/signet, or regtest (bech32 "bcrt1…").
// P2PKH and P2SH are base58check; segwit v0 is bech32 and v1+ (taproot,
// pay-to-anchor, future versions) bech32m, in lower case. These are the
// canonical forms of internal/chain/address, which the tests check for
// every kind. A pay-to-pubkey output (early coinbases) is given the P2PKH
// address of its key, as bitcoin-etl and block explorers do, so coins paid
// to a key and to its hash meet at one node.
//
// A bare multisig output is named "multisig:<a1>+<a2>+…", the P2PKH
// addresses of its keys in script order: bitcoin-etl lists those addresses
// for it and the file loader joins them so. An output whose script has no
// address (OP_RETURN data, non-standard or malformed scripts, v0 witness
// programs of the wrong length) is named "nonstandard" followed by the first
// 40 hex digits of the SHA-256 of the script bytes, which is bitcoin-etl's
// own name for it (and the file loader keeps such names as they are):
// stable, and the same for equal scripts.
//
// Transfers of value 0 (OP_RETURN data, witness commitments, anchors) carry
// no funds and are left out, as the file loader leaves them out, unless
// Config.KeepZeroValue is set; Stats counts them.
//
// # Position and reorganisations
//
// The state file (Config.StateFile) holds the network, the last height
// delivered and that block's hash, and is replaced atomically (write,
// fsync, rename, fsync of the directory) after each Config.BatchBlocks
// blocks and at the end of a run, once the sink has accepted the batch (and
// flushed it, if it implements Flusher). A crash after delivery and before
// the save delivers that batch again: delivery is at least once, never
// partial per block. A run first checks that the saved block is still on
// the node's best chain, and each block must follow the one before it; when
// either fails, Run returns ErrReorg rather than mixing two chains.
package btcrpc
