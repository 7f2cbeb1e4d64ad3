//go:build !linux

package huge

import "unsafe"

// Advise does nothing where transparent huge pages do not exist.
func Advise(unsafe.Pointer, uintptr) {}
