//go:build unix

package screen

import (
	"syscall"
	"time"
)

// cpuTime is the user and system CPU time of the process so far: on the
// shared machine, throughput per CPU-second is steadier than per wall
// second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
