// Package huge allocates large arrays that are read at random, asking the
// kernel to back them with transparent huge pages.
//
// Random access over more memory than the TLB covers (a few megabytes with
// 4 KiB pages) costs a page walk on nearly every access, and in a virtual
// machine each walk is two nested ones: on this kind of machine it can
// make a loop over a 16 MB array ten times slower than over one in cache.
// Where THP is in "madvise" mode (the default of many distributions) the
// kernel only uses huge pages for memory that asks.
package huge

import "unsafe"

// Slice makes a zeroed slice of n elements and advises huge pages for it.
// The advice is best effort: failures are ignored.
func Slice[T any](n int) []T {
	s := make([]T, n)
	var zero T
	Advise(unsafe.Pointer(unsafe.SliceData(s)), uintptr(n)*unsafe.Sizeof(zero))
	return s
}
