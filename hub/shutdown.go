package hub

import (
	"context"
	"sync"

	"github.com/presence-dev/presence/protocol"
)

// shutdownConcurrency bounds how many tabs Shutdown closes at once.
const shutdownConcurrency = 64

// Shutdown stops taking tabs, cancels every store call, publish and end
// report under way, closes every connected tab with 1012 (service
// restart: the client reconnects, to this node once it is back or to
// another) at most 64 at a time, and then closes the registry. ctx bounds
// all of it: when ctx ends first, Shutdown cuts what is left and returns
// ctx.Err() at once. Shutdown is idempotent.
//
// Cancelling the store calls, and dropping the activity waiting for a
// flush, loses nothing: a tab reconnecting elsewhere says in its hello how
// long its person has been idle.
func (r *Registry) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closing.Store(true)
	r.mu.Unlock()
	r.cancel()
	sem := make(chan struct{}, shutdownConcurrency)
	var closers sync.WaitGroup
	for _, t := range r.allTabs() {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		closers.Add(1)
		go func() {
			defer closers.Done()
			defer func() { <-sem }()
			t.closeGracefully(protocol.CloseServiceRestart, "server restarting")
		}()
	}
	tabsClosed := make(chan struct{})
	go func() {
		closers.Wait()
		r.handlers.Wait()
		close(tabsClosed)
	}()
	select {
	case <-tabsClosed:
	case <-ctx.Done():
	}
	closed := make(chan struct{})
	go func() {
		r.Close()
		<-tabsClosed // Close cut the remaining tabs; their handlers return
		close(closed)
	}()
	select {
	case <-closed:
		return ctx.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close cancels every store call, publish and end report under way,
// closes every tab at once without a close handshake, and stops the
// broker, the claims of due sessions, the store's probes, the timer wheel and the deadline
// workers, waiting for them. It
// is idempotent and does not close the store, which the caller owns.
func (r *Registry) Close() error {
	r.closeOnce.Do(func() {
		r.closing.Store(true)
		r.cancel()
		for _, t := range r.allTabs() {
			t.closeNow()
		}
		if r.brokerDone != nil {
			<-r.brokerDone
		}
		if r.claimer != nil {
			r.claimer.close()
		}
		r.prober.close()
		r.wheel.close()
		r.due.close()
	})
	return nil
}
