// Command presence-bench measures a presence node under load, beside a
// bare coder/websocket server, and prints the figures as a Markdown
// table with the performance goals checked under it.
//
//	go run ./cmd/presence-bench                # everything, both stores
//	go run ./cmd/presence-bench -store memory -scenario idle,activity -tabs 5000
//
// It builds presence (or takes -server-bin), starts it as a child
// process on loopback with -debug-addr, and for -store redis a private
// redis-server. Tabs are held by copies of presence-bench started as
// workers, each at most 15,000, and speak protocol v1 from 127.0.0.2 to
// 127.0.0.9. The scenarios: idle tabs (memory and goroutines per tab), a
// reconnect storm after presence is killed (connects and hellos per
// second of CPU, false logouts), activity frames (CPU per frame, Redis
// commands per frame, an unrelated session's warn), warn lateness
// (5,000 sessions due within a second, then 15,000 at one instant) and
// /ping over keep-alive connections. Figures come from the server's CPU
// time and RSS in /proc, its /metrics and its profiles, so that they
// hold on a shared machine; see docs/performance.md.
//
// "presence-bench ref -addr 127.0.0.1:8766" runs the reference server
// alone. "presence-bench soak" runs the soak of internal/soak: scripted
// people on three nodes sharing a Redis, with faults, checked for false
// and missed logouts and lost ends (make soak). Linux only.
package main
