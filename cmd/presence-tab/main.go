// Command presence-tab is a browser tab on the command line: it connects
// to presence, says hello with a token, answers pings, and prints every
// frame the server pushes, so that a person can watch a session's state,
// warn and expire arrive, or check a deployment.
//
//	presence-tab -url ws://127.0.0.1:8765/ws -token "$TOKEN"
//
// With -activity it reports activity every so often, as a person at work
// would. It exits when the server closes the connection.
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
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "presence-tab:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("presence-tab", flag.ContinueOnError)
	url := fs.String("url", "ws://127.0.0.1:8765/ws", "presence's WebSocket endpoint")
	token := fs.String("token", getenv("PRESENCE_TOKEN"), "the session's token [PRESENCE_TOKEN]")
	idle := fs.Duration("idle", 0, "how long this tab has been idle when it says hello")
	activity := fs.Duration("activity", 0, "report activity this often; zero means never")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *token == "" {
		return errors.New("a token is required: -token or PRESENCE_TOKEN")
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
				printf("closed %d", status)
				return nil
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
