// Command presence logs out people who left their workstation, and never
// the one still reading or typing in some tab.
//
// It serves, on one address (-addr, default :8765):
//
//	/ws                       the WebSocket of every tab (protocol v1)
//	/ping                     django-session-security's classic ping
//	/presence.js, .css        the browser client
//	/api/v1/                  the server API, with -api-key
//	/healthz, /readyz         liveness, and readiness of the store
//	/metrics                  Prometheus metrics
//	/demo/                    the demo application, with -demo
//
// Every flag has a PRESENCE_* variable; flags win. An invalid
// configuration exits with status 2 and one line that says what to fix.
// SIGINT and SIGTERM stop it gracefully: every tab is closed with 1012
// and reconnects, and the process exits within 10 s. docs/configuration.md
// has the whole configuration table.
package main
