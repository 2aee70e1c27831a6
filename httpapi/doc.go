// Package httpapi serves every HTTP surface of a presence node beside the
// WebSocket frames: the classic /ping, the server API under /api/v1/, CORS
// and origin checks, /healthz, /readyz, /metrics, the browser client's
// files and, when given one, the demo application.
//
// Use New to make a Server and serve it as the node's http.Handler. Its
// routes are http.ServeMux method patterns; /ws is handed to the hub's
// Registry, which owns the tabs. Everything else reaches a session
// through the Registry's small exported API (Report, Lookup, End), never
// through a hub's state, so that a rule about sessions lives in package
// session and a decision about tabs in package hub, whichever surface the
// request came by.
//
// Errors a client can act on are JSON with a protocol code: the server
// API's {"error": {"code", "message"}}, and /ping's 503 when the store is
// unreachable. The classic ping otherwise keeps django-session-security's
// contract: a bare JSON integer or the string "logout".
package httpapi
