package graph

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"unsafe"

	"github.com/bulwark-intel/bulwark/internal/atomicfile"
)

// Snapshot format, version 2 (2 added the label sections). Little-endian throughout:
//
//	header   magic "BWKGRAPH", version u32, flags u32, then nsections × {offset u64, length u64},
//	         then a CRC-32C of everything before it (u32), padded to 64 bytes
//	sections each starting on a 64-byte boundary, in the order of the section list
//
// The columns are stored exactly as the graph holds them, so Open maps the
// file and points the graph's slices into the mapping: a snapshot of any
// size opens in the time it takes to check it, and pages are read from disk
// only when a trace touches them.
const (
	snapMagic   = "BWKGRAPH"
	snapVersion = 2
	align       = 64
)

const (
	flagTimed = 1 << iota
	flagUSD
	flagTxNodes
)

// section ids, in file order.
const (
	secAddrOff = iota
	secAddrs
	secSlots
	secOutOff
	secInOff
	secOutIdx
	secInIdx
	secFrom
	secTo
	secTime
	secAmtLo
	secAmtHi
	secUSD
	secRunFirst
	secRunTx
	secTxBlock
	secTxHashOff
	secTxHash
	secAssetOff
	secAssets
	secBigOff
	secBigs
	secLabelNode
	secLabelOff
	secLabelText
	numSections
)

func headerSize() int {
	n := 8 + 4 + 4 + numSections*16 + 4
	return (n + align - 1) / align * align
}

func (g *Graph) sections() [numSections][]byte {
	var s [numSections][]byte
	s[secAddrOff] = asBytes(g.addrOff)
	s[secAddrs] = g.addrs
	s[secSlots] = asBytes(g.slots)
	s[secOutOff] = asBytes(g.outOff)
	s[secInOff] = asBytes(g.inOff)
	s[secOutIdx] = asBytes(g.outIdx)
	s[secInIdx] = asBytes(g.inIdx)
	s[secFrom] = asBytes(g.from)
	s[secTo] = asBytes(g.to)
	s[secTime] = asBytes(g.time)
	s[secAmtLo] = asBytes(g.amtLo)
	s[secAmtHi] = asBytes(g.amtHi)
	s[secUSD] = asBytes(g.usd)
	s[secRunFirst] = asBytes(g.runFirst)
	s[secRunTx] = asBytes(g.runTx)
	s[secTxBlock] = asBytes(g.txBlock)
	s[secTxHashOff] = asBytes(g.txHashOff)
	s[secTxHash] = g.txHash
	s[secAssetOff] = asBytes(g.assetOff)
	s[secAssets] = g.assets
	s[secBigOff] = asBytes(g.bigOff)
	s[secBigs] = g.bigs
	s[secLabelNode] = asBytes(g.labelNode)
	s[secLabelOff] = asBytes(g.labelOff)
	s[secLabelText] = g.labelText
	return s
}

// WriteSnapshot writes the graph to w in the snapshot format.
func (g *Graph) WriteSnapshot(w io.Writer) error {
	if !littleEndian {
		return errors.New("snapshots are written on little-endian machines only")
	}
	secs := g.sections()
	hdr := make([]byte, headerSize())
	copy(hdr, snapMagic)
	binary.LittleEndian.PutUint32(hdr[8:], snapVersion)
	var flags uint32
	if g.timed {
		flags |= flagTimed
	}
	if g.hasUSD {
		flags |= flagUSD
	}
	if g.hasTx {
		flags |= flagTxNodes
	}
	binary.LittleEndian.PutUint32(hdr[12:], flags)
	off := uint64(len(hdr))
	for i, s := range secs {
		p := 16 + i*16
		binary.LittleEndian.PutUint64(hdr[p:], off)
		binary.LittleEndian.PutUint64(hdr[p+8:], uint64(len(s)))
		off += pad(uint64(len(s)))
	}
	crcAt := 16 + numSections*16
	binary.LittleEndian.PutUint32(hdr[crcAt:], crc32.Checksum(hdr[:crcAt], castagnoli))
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.Write(hdr); err != nil {
		return err
	}
	var zeros [align]byte
	for _, s := range secs {
		if _, err := bw.Write(s); err != nil {
			return err
		}
		if _, err := bw.Write(zeros[:pad(uint64(len(s)))-uint64(len(s))]); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// SaveSnapshot writes the graph to path atomically (atomicfile.Write: a
// temporary file renamed into place after it is synced).
func (g *Graph) SaveSnapshot(path string) error {
	if err := atomicfile.Write(path, g.WriteSnapshot); err != nil {
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	return nil
}

// IsSnapshot reports whether the first bytes of a file are a snapshot's.
func IsSnapshot(head []byte) bool {
	return len(head) >= len(snapMagic) && string(head[:len(snapMagic)]) == snapMagic
}

// OpenSnapshot maps a snapshot file and returns its graph, after checking
// the header checksum and every index in the structure, so a damaged or
// hostile file is an error rather than a crash later. Close releases it.
func OpenSnapshot(path string) (*Graph, error) {
	data, closer, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("open snapshot %s: %w", path, err)
	}
	g, err := decodeSnapshot(data)
	if err != nil {
		closer()
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	g.closer = closer
	return g, nil
}

// ReadSnapshot decodes a snapshot held in memory (used where mapping is not
// available, and by the fuzz target). The graph refers to data.
func ReadSnapshot(data []byte) (*Graph, error) { return decodeSnapshot(data) }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func decodeSnapshot(data []byte) (*Graph, error) {
	hs := headerSize()
	if len(data) < hs || string(data[:8]) != snapMagic {
		return nil, errors.New("not a Bulwark graph snapshot")
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != snapVersion {
		return nil, fmt.Errorf("snapshot version %d, this build reads %d", v, snapVersion)
	}
	crcAt := 16 + numSections*16
	if crc32.Checksum(data[:crcAt], castagnoli) != binary.LittleEndian.Uint32(data[crcAt:]) {
		return nil, errors.New("header checksum mismatch")
	}
	if !littleEndian {
		return nil, errors.New("snapshots are read on little-endian machines only")
	}
	flags := binary.LittleEndian.Uint32(data[12:])
	var secs [numSections][]byte
	for i := range secs {
		p := 16 + i*16
		off := binary.LittleEndian.Uint64(data[p:])
		n := binary.LittleEndian.Uint64(data[p+8:])
		if off%align != 0 || off > uint64(len(data)) || n > uint64(len(data))-off {
			return nil, fmt.Errorf("section %d out of bounds", i)
		}
		secs[i] = data[off : off+n]
	}
	g := &Graph{timed: flags&flagTimed != 0, hasUSD: flags&flagUSD != 0, hasTx: flags&flagTxNodes != 0}
	var err error
	u32 := func(i int) []uint32 {
		s, e := castSlice[uint32](secs[i])
		if e != nil && err == nil {
			err = fmt.Errorf("section %d: %w", i, e)
		}
		return s
	}
	u64 := func(i int) []uint64 {
		s, e := castSlice[uint64](secs[i])
		if e != nil && err == nil {
			err = fmt.Errorf("section %d: %w", i, e)
		}
		return s
	}
	g.addrOff, g.addrs, g.slots = u64(secAddrOff), secs[secAddrs], u32(secSlots)
	g.outOff, g.inOff, g.outIdx, g.inIdx = u32(secOutOff), u32(secInOff), u32(secOutIdx), u32(secInIdx)
	g.from, g.to, g.time = u32(secFrom), u32(secTo), u32(secTime)
	g.amtLo, g.amtHi = u64(secAmtLo), u32(secAmtHi)
	if usd, e := castSlice[float32](secs[secUSD]); e != nil {
		return nil, fmt.Errorf("USD section: %w", e)
	} else {
		g.usd = usd
	}
	g.runFirst, g.runTx = u32(secRunFirst), u32(secRunTx)
	g.txBlock, g.txHashOff, g.txHash = u64(secTxBlock), u64(secTxHashOff), secs[secTxHash]
	g.assetOff, g.assets = u64(secAssetOff), secs[secAssets]
	g.bigOff, g.bigs = u64(secBigOff), secs[secBigs]
	g.labelNode, g.labelOff, g.labelText = u32(secLabelNode), u64(secLabelOff), secs[secLabelText]
	if err != nil {
		return nil, err
	}
	if err := g.check(); err != nil {
		return nil, err
	}
	g.deriveBig()
	return g, nil
}

// check verifies every length and index the accessors rely on, so that no
// accessor can go out of bounds on a graph decoded from a file.
func (g *Graph) check() error {
	if len(g.addrOff) == 0 {
		return errors.New("no address offsets")
	}
	n := len(g.addrOff) - 1
	e := len(g.from)
	if n > MaxNodes || e > MaxEdges {
		return errors.New("graph too large")
	}
	if err := offsets64(g.addrOff, uint64(len(g.addrs)), "address offsets"); err != nil {
		return err
	}
	if len(g.slots) == 0 || len(g.slots)&(len(g.slots)-1) != 0 || len(g.slots) < n {
		return errors.New("address table size")
	}
	for _, s := range g.slots {
		if int(s) > n {
			return errors.New("address table entry out of range")
		}
	}
	if len(g.outOff) != n+1 || len(g.inOff) != n+1 {
		return errors.New("adjacency offsets length")
	}
	if len(g.to) != e || len(g.time) != e || len(g.amtLo) != e || len(g.amtHi) != e ||
		len(g.outIdx) != e || len(g.inIdx) != e {
		return errors.New("edge columns differ in length")
	}
	if g.usd != nil && len(g.usd) != e {
		return errors.New("USD column length")
	}
	if g.hasUSD && g.usd == nil {
		return errors.New("USD flag without USD column")
	}
	for _, off := range [][]uint32{g.outOff, g.inOff} {
		if off[0] != 0 || int(off[n]) != e {
			return errors.New("adjacency offsets do not span the edges")
		}
		for i := 1; i <= n; i++ {
			if off[i] < off[i-1] {
				return errors.New("adjacency offsets decrease")
			}
		}
	}
	for _, col := range [][]uint32{g.from, g.to} {
		for _, v := range col {
			if int(v) >= n {
				return errors.New("edge endpoint out of range")
			}
		}
	}
	for _, col := range [][]uint32{g.outIdx, g.inIdx} {
		for _, v := range col {
			if int(v) >= e {
				return errors.New("adjacency entry out of range")
			}
		}
	}
	for i := 1; i < e; i++ {
		if g.time[i] < g.time[i-1] {
			return errors.New("edges not in time order")
		}
	}
	if err := offsets64(g.assetOff, uint64(len(g.assets)), "asset offsets"); err != nil {
		return err
	}
	if err := offsets64(g.bigOff, uint64(len(g.bigs)), "amount offsets"); err != nil {
		return err
	}
	nAssets, nBig := uint32(len(g.assetOff)-1), uint64(len(g.bigOff)-1)
	for i, h := range g.amtHi {
		if h>>amtHiBits >= nAssets {
			return errors.New("asset number out of range")
		}
		if h&amtHiMask == amtOverflow && g.amtLo[i] >= nBig {
			return errors.New("large amount index out of range")
		}
	}
	if err := offsets64(g.labelOff, uint64(len(g.labelText)), "label offsets"); err != nil {
		return err
	}
	if len(g.labelNode) != len(g.labelOff)-1 {
		return errors.New("label table lengths")
	}
	for i, id := range g.labelNode {
		if int(id) >= n || (i > 0 && id <= g.labelNode[i-1]) {
			return errors.New("label nodes out of order")
		}
	}
	if err := offsets64(g.txHashOff, uint64(len(g.txHash)), "transaction offsets"); err != nil {
		return err
	}
	nTx := len(g.txHashOff) - 1
	if len(g.txBlock) != nTx || len(g.runFirst) != len(g.runTx) {
		return errors.New("transaction table lengths")
	}
	for i, f := range g.runFirst {
		if int(f) >= e || (i > 0 && f <= g.runFirst[i-1]) || (i == 0 && f != 0) {
			return errors.New("transaction runs out of order")
		}
		if t := g.runTx[i]; t != NoTx && int(t) >= nTx {
			return errors.New("transaction index out of range")
		}
	}
	return nil
}

func offsets64(off []uint64, limit uint64, what string) error {
	if len(off) == 0 || off[0] != 0 || off[len(off)-1] != limit {
		return fmt.Errorf("%s do not span their data", what)
	}
	for i := 1; i < len(off); i++ {
		if off[i] < off[i-1] {
			return fmt.Errorf("%s decrease", what)
		}
	}
	return nil
}

func pad(n uint64) uint64 { return (n + align - 1) / align * align }

var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

func asBytes[T uint32 | uint64 | float32](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// castSlice views b as a slice of T without copying; b must be aligned,
// which the 64-byte section alignment of a mapped file guarantees. A
// misaligned buffer (a snapshot read into an arbitrary []byte) is copied.
func castSlice[T uint32 | uint64 | float32](b []byte) ([]T, error) {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if len(b)%size != 0 {
		return nil, fmt.Errorf("length %d is not a multiple of %d", len(b), size)
	}
	if len(b) == 0 {
		return nil, nil
	}
	if uintptr(unsafe.Pointer(&b[0]))%uintptr(size) != 0 {
		c := make([]T, len(b)/size)
		copy(asBytes(c), b)
		return c, nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/size), nil
}
