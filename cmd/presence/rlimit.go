package main

import "syscall"

// filesReserved are the open files a node keeps for itself besides its
// tabs: listeners, Redis connections, webhook deliveries, logs.
const filesReserved = 256

// defaultMaxTabs is the tabs a node may hold by default: its open-file
// limit, which each tab takes one of, less what it needs besides.
func defaultMaxTabs() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur == 0 {
		return 0 // unknown: no cap
	}
	return int(max(int64(lim.Cur)-filesReserved, 1))
}
