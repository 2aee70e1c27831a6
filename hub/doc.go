// Package hub holds the browser tabs connected to one presence node and
// pushes each session's warn and expire events to them.
//
// Use New to make a Registry, mount its ServeWS handler at /ws, and call
// Shutdown when the process stops. The other surfaces of a node (the
// classic ping, the server API) reach sessions through Report, Lookup and
// End, which record what they learnt in the store and bring every tab of
// the session, on this node and on the others, up to date.
//
// A Registry keeps one hub per session that this node watches, in a
// sharded map so that no single lock serializes all sessions. A hub holds
// the session's connected tabs and one entry in the node's timer wheel, at
// the session's next deadline: the warn deadline while the person is
// active, the expire deadline once warned. When an entry fires, a
// deadline worker re-reads the session.Store before the hub acts, so a
// decision never rests on what this node alone has seen. Nodes sharing a
// store nudge one another through a Broker when a session ends or a
// warning lifts.
//
// Every tab costs one goroutine, the one that reads it. Writes go through
// the tab's bounded queue and are flushed by a short-lived goroutine only
// while the queue has frames, so a broadcast never blocks and a slow tab is
// dropped instead of delaying the others. Liveness (hello within 10 s,
// pings every ~25 s, silence for 60 s) is kept in the same wheel.
package hub
