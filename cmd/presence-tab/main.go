// Command presence-tab is a browser tab on the command line: it connects
// to presence, says hello with a token, answers pings, and prints every
// frame the server pushes, so that a person can watch a session's state,
// warn and expire arrive, or check a deployment.
//
//	presence-tab -url ws://127.0.0.1:8765/ws -token "$TOKEN"
//
// With -activity it reports activity every so often, as a person at work
// would. It exits when the server closes the connection, with a status a
// deployment check can test: 0 for a normal close or Ctrl-C, 3 when the
// session ended (4410), 4 when the token was refused (4401), 5 for any
// other close (presence restarting, its store unreachable, too many tabs)
// and 1 when it could not connect; the last line names the close.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/presence-dev/presence/protocol"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Getenv)
	stop()
	var closed *closedError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &closed):
		os.Exit(closed.exitCode())
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "presence-tab:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "presence-tab:", err)
		os.Exit(1)
	}
}

// errUsage marks a mistake in the command line.
var errUsage = errors.New("usage")

// closedError is a close by presence that a deployment check should see.
type closedError struct{ code websocket.StatusCode }

func (e *closedError) Error() string { return fmt.Sprintf("closed %d", e.code) }

// exitCode is the process's status for the close.
func (e *closedError) exitCode() int {
	switch protocol.CloseCode(e.code) {
	case protocol.CloseSessionEnded:
		return 3
	case protocol.CloseTokenRefused:
		return 4
	}
	return 5
}

// closeMeaning says in words what a close code means to the person.
func closeMeaning(code websocket.StatusCode) string {
	switch protocol.CloseCode(code) {
	case protocol.CloseSessionEnded:
		return "the session ended"
	case protocol.CloseTokenRefused:
		return "the token was refused"
	case protocol.CloseServiceRestart:
		return "presence is restarting"
	case protocol.CloseInternalError:
		return "presence cannot reach its store"
	case protocol.CloseTryAgainLater:
		return "presence holds too many tabs"
	case protocol.ClosePolicyViolation:
		return "a frame broke the protocol"
	case 1000:
		return "a normal close"
	}
	return "see the close codes in docs/protocol.md"
}

func run(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("presence-tab", flag.ContinueOnError)
	// A mistake gets one line (the error main prints), not the whole
	// usage; -help gets the usage.
	fs.SetOutput(io.Discard)
	url := fs.String("url", "ws://127.0.0.1:8765/ws", "presence's WebSocket endpoint")
	token := fs.String("token", getenv("PRESENCE_TOKEN"), "the session's token [PRESENCE_TOKEN]")
	idle := fs.Duration("idle", 0, "how long this tab has been idle when it says hello")
	activity := fs.Duration("activity", 0, "report activity this often; zero means never")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(out)
			fmt.Fprintln(out, "Usage: presence-tab -token TOKEN [flags]")
			fs.PrintDefaults()
			return err
		}
		return fmt.Errorf("%w: %v; presence-tab -help lists every flag", errUsage, err)
	}
	if *token == "" {
		return fmt.Errorf("%w: a token is required: -token or PRESENCE_TOKEN", errUsage)
	}

	dialCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dialCtx, *url, &websocket.DialOptions{Subprotocols: []string{protocol.Subprotocol}})
	if err != nil {
		return fmt.Errorf("connect to %s: %w", *url, err)
	}
	defer conn.CloseNow()

	ctx, cancelRun := context.WithCancel(ctx)
	var activityDone sync.WaitGroup
	defer activityDone.Wait()
	defer cancelRun()

	start := time.Now()
	var outMu sync.Mutex
	printf := func(format string, a ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(out, "%6.1fs  "+format+"\n", append([]any{time.Since(start).Seconds()}, a...)...)
	}
	send := func(f protocol.ClientFrame) error {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return conn.Write(wctx, websocket.MessageText, f.AppendJSON(nil))
	}
	if err := send(protocol.ClientFrame{Type: protocol.TypeHello, Token: *token, IdleMS: idle.Milliseconds()}); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	if *activity > 0 {
		activityDone.Add(1)
		go func() {
			defer activityDone.Done()
			tick := time.NewTicker(*activity)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					if send(protocol.ClientFrame{Type: protocol.TypeActivity}) != nil {
						return
					}
					printf("sent activity")
				}
			}
		}()
	}
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			if status := websocket.CloseStatus(err); status != -1 {
				printf("closed %d: %s", status, closeMeaning(status))
				if status == websocket.StatusNormalClosure {
					return nil
				}
				return &closedError{status}
			}
			if ctx.Err() != nil {
				return nil // Ctrl-C
			}
			return err
		}
		printf("%s", data)
		if f, err := protocol.DecodeServer(data); err == nil && f.Type == protocol.TypePing {
			if err := send(protocol.ClientFrame{Type: protocol.TypePong}); err != nil {
				return err
			}
		}
	}
}
