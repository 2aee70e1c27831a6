package hub

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
)

// tabBufferSize is the size of a tab's read and write buffers. Frames are
// small (at most ReadLimit in, a few hundred bytes out), and an idle tab
// keeps its buffers all day: net/http's 4 KiB each would be most of a
// tab's memory.
const tabBufferSize = 512

// smallBuffers is a ResponseWriter whose Hijack hands coder/websocket
// buffers of tabBufferSize instead of net/http's, which are then let go.
type smallBuffers struct {
	http.ResponseWriter
}

func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	// Bytes the client sent right after its request, already read into
	// net/http's buffer, must be in the new buffer too: coder/websocket
	// takes what is buffered, then reads the connection.
	early := rw.Reader.Buffered()
	var in io.Reader = conn
	if early > 0 {
		b, _ := rw.Reader.Peek(early)
		in = io.MultiReader(bytes.NewReader(bytes.Clone(b)), conn)
	}
	br := bufio.NewReaderSize(in, max(tabBufferSize, early))
	if early > 0 {
		br.Peek(early) // from the copy alone: it holds early bytes
	}
	if err := rw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, tabBufferSize)), nil
}
