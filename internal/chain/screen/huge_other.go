//go:build !linux

package screen

import "unsafe"

func adviseHuge(unsafe.Pointer, uintptr) {}
