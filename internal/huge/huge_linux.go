package huge

import (
	"syscall"
	"unsafe"
)

// Advise asks for huge pages over the whole 2 MiB pages inside the n bytes
// at p; arrays under 4 MiB are left alone.
func Advise(p unsafe.Pointer, n uintptr) {
	const page = 2 << 20
	if n < 2*page {
		return
	}
	b := unsafe.Slice((*byte)(p), n)
	skip := (page - uintptr(p)%page) % page
	end := skip + (n-skip)&^(page-1)
	const madvHugepage = 14
	_ = syscall.Madvise(b[skip:end], madvHugepage)
}
