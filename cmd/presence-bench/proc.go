package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc/PID/stat's times: USER_HZ, 100 on every
// Linux the tool runs on.
const clockTick = 10 * time.Millisecond

// cpuTime returns the CPU time, user and system, that process pid and
// its threads have used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces; the fields
	// after it start with the state, field 3 of proc(5).
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q, stime %q", pid, fields[11], fields[12])
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// rss returns the resident set size of process pid, in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: VmRSS %q", pid, rest)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
}

// machine describes the computer: cores, CPU model, kernel.
func machine() string {
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	loadFields := strings.Fields(string(load))
	if len(loadFields) > 3 {
		loadFields = loadFields[:3]
	}
	return fmt.Sprintf("%d cores (%s), Linux %s, load average %s at the start",
		runtime.NumCPU(), model, strings.TrimSpace(string(kernel)), strings.Join(loadFields, " "))
}

// machineCPU is the machine's CPU time so far, from /proc/stat: busy at
// normal priority (user, system, interrupts), busy at nice, and stolen by
// the hypervisor.
type machineCPU struct {
	busy, nice, steal time.Duration
}

func readMachineCPU() (machineCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return machineCPU{}, fmt.Errorf("/proc/stat starts %q", line)
	}
	var v [9]int64
	for i := 1; i < 9; i++ {
		v[i], _ = strconv.ParseInt(f[i], 10, 64)
	}
	// user nice system idle iowait irq softirq steal
	return machineCPU{
		busy:  time.Duration(v[1]+v[3]+v[6]+v[7]) * clockTick,
		nice:  time.Duration(v[2]) * clockTick,
		steal: time.Duration(v[8]) * clockTick,
	}, nil
}

// ownCPU returns the CPU time of this process and of its children that
// have ended and been waited for: the servers, Redis and the workers.
func ownCPU() time.Duration {
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(children.Utime) + tv(children.Stime)
}

// describeLoad says how busy the machine was over a run that took
// elapsed and used own CPU time itself, after before and after are read.
func describeLoad(after, before machineCPU, own, elapsed time.Duration) string {
	cores := func(d time.Duration) float64 { return d.Seconds() / elapsed.Seconds() }
	busy := after.busy - before.busy
	return fmt.Sprintf("over the run, this run's processes kept %.2f cores busy, other processes at normal priority %.2f, processes at nice (a fuzz campaign) %.2f; steal %.2f",
		cores(own), cores(max(busy-own, 0)), cores(after.nice-before.nice), cores(after.steal-before.steal))
}
