package httpapi

import (
	"sync"
	"time"
)

// A client address may present a wrong API key failureBurst times, and
// then once per failureEvery: the application's servers, which have the
// key, never notice, while guessing it becomes hopeless.
const (
	failureBurst = 20
	failureEvery = 3 * time.Second
	// maxLimitedAddresses bounds the addresses remembered; past it, those
	// whose allowance is whole again are forgotten first.
	maxLimitedAddresses = 10000
)

// failureLimiter keeps, per client address, a bucket of allowed failures
// that refills over time.
type failureLimiter struct {
	mu      sync.Mutex
	buckets map[string]*failureBucket
}

type failureBucket struct {
	tokens float64 // failures still allowed now
	at     time.Time
}

// wait returns how long addr must wait before it may try again, or zero
// when it may try now.
func (l *failureLimiter) wait(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(addr, now)
	if b == nil || b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(failureEvery))
}

// failed takes one allowed failure from addr.
func (l *failureLimiter) failed(addr string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(addr, now)
	if b == nil {
		if len(l.buckets) >= maxLimitedAddresses {
			l.forgetWhole(now)
		}
		if l.buckets == nil {
			l.buckets = make(map[string]*failureBucket)
		}
		b = &failureBucket{tokens: failureBurst, at: now}
		l.buckets[addr] = b
	}
	b.tokens = max(b.tokens-1, 0)
}

// refill brings addr's bucket up to now and returns it, or nil.
func (l *failureLimiter) refill(addr string, now time.Time) *failureBucket {
	b := l.buckets[addr]
	if b == nil {
		return nil
	}
	b.tokens = min(b.tokens+now.Sub(b.at).Seconds()/failureEvery.Seconds(), failureBurst)
	b.at = now
	return b
}

// forgetWhole drops the buckets that have refilled, or, if none has, all
// of them: a flood of addresses costs a bounded map.
func (l *failureLimiter) forgetWhole(now time.Time) {
	for addr := range l.buckets {
		if b := l.refill(addr, now); b.tokens >= failureBurst {
			delete(l.buckets, addr)
		}
	}
	if len(l.buckets) >= maxLimitedAddresses {
		clear(l.buckets)
	}
}
