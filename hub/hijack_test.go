package hub

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A client that sends its hello in the same packet as its upgrade request
// is served: the bytes net/http read ahead reach the tab's small buffer.
func TestFrameSentWithTheUpgradeIsRead(t *testing.T) {
	e := newEnv(t)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hello := []byte(`{"type":"hello","token":"` + e.token("early") + `","idle_ms":0}`)
	var packet bytes.Buffer
	packet.WriteString("GET /ws HTTP/1.1\r\nHost: " + conn.RemoteAddr().String() + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef")) + "\r\n\r\n")
	packet.Write(maskedTextFrame(hello))
	if _, err := conn.Write(packet.Bytes()); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %s", resp.Status)
	}
	// The server's first frame: a short unmasked text frame.
	header := make([]byte, 2)
	if _, err := br.Read(header[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := br.Read(header[1:]); err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, header[1]&0x7f)
	if header[1]&0x7f >= 126 {
		t.Fatalf("a first frame of %d, want a short state frame", header[1]&0x7f)
	}
	if _, err := io.ReadFull(br, payload); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(payload), `"type":"state"`) {
		t.Errorf("first frame %s, want state", payload)
	}
}

// maskedTextFrame is a client's text frame of payload, masked with zeros.
func maskedTextFrame(payload []byte) []byte {
	frame := []byte{0x81}
	switch n := len(payload); {
	case n < 126:
		frame = append(frame, 0x80|byte(n))
	default:
		frame = append(frame, 0x80|126, byte(n>>8), byte(n))
	}
	frame = append(frame, 0, 0, 0, 0) // a zero mask leaves the payload as it is
	return append(frame, payload...)
}
