// Package protocol defines the frames of presence's WebSocket protocol v1
// and their JSON form. It does no I/O.
//
// Use DecodeClient to read a frame a browser tab sent. It is strict: the
// frame must be exactly one JSON object whose member names match exactly,
// with the members its type defines and nothing else, so that a buggy or
// hostile client gets a precise *Error rather than a guess. Every error
// DecodeClient returns is an *Error whose Code is one of the Code constants,
// and its Message says what to fix; the server can send it back as is.
//
// Use the AppendJSON methods of State, Warn, Expire, Ping and Error to encode
// the frames the server pushes. They append to a caller's buffer and, given
// one with room enough, do not allocate, so encoding a frame once per
// broadcast costs a fraction of json.Marshal.
//
// Every code a client can see, in error frames and in the HTTP surfaces'
// JSON errors, is a Code constant, and every close code a CloseCode; the
// docs/protocol.md lists them.
//
// ClientFrame represents any frame a client sends; ServerFrame represents
// any frame a server sends, as DecodeServer reads it for Go clients and
// tests. Subprotocol is the WebSocket subprotocol both ends negotiate.
package protocol
