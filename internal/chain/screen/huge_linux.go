package screen

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks the kernel to back a large array with transparent huge
// pages where it only does so on request (THP "madvise" mode): random
// lookups over hundreds of megabytes otherwise miss the TLB on nearly
// every access, which costs a page walk each — two nested ones in a
// virtual machine. Only whole 2 MiB pages inside the array are advised;
// the advice is best effort and failures are ignored.
func adviseHuge(p unsafe.Pointer, n uintptr) {
	const huge = 2 << 20
	if n < 2*huge {
		return
	}
	b := unsafe.Slice((*byte)(p), n)
	skip := (huge - uintptr(p)%huge) % huge
	end := skip + (n-skip)&^(huge-1)
	const madvHugepage = 14
	_ = syscall.Madvise(b[skip:end], madvHugepage)
}
