// Package backend helps a Go application that uses presence enforce the
// session timeout on its server too, as django-session-security's
// middleware does: a person who closed the tab, or whose page runs no
// script, is still logged out on the next request.
//
// Use SessionID to derive a presence session id from the login session,
// and Mint to put it in a token for the page. Make one Reporter per
// process and call its Login in the login handler: presence knows the
// session from then on, and times it out, with or without a tab. Mount
// WebhookHandler at the URL presence sends its webhook to: it records
// each ended session in an Ended, and calls OnEnd to delete the login
// session. Wrap the application's handlers in Middleware: it reports
// every request of a logged-in session to the Reporter, so that the
// application's own pages count as activity, and refuses the requests of
// ended sessions from memory; nothing calls presence on the request path.
// A Client calls presence's API; given one, Middleware also asks about
// sessions the webhook has not reported, at most once per CheckEvery
// each, and lets requests through when presence cannot answer.
//
// Ended represents what this process has heard, in memory, for a while.
// An application that runs several processes receives each webhook in one
// of them only: have OnEnd delete the login session in the store they
// share, and give Middleware a Client, so the others learn of the end
// within CheckEvery.
//
// Logs go to a *slog.Logger rather than presence's zap logger: this
// package runs inside the application, which chooses its own logging.
package backend
