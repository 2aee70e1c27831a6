package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// A client frame reads back as what was sent, whatever its length: the
// three length forms and the mask.
func TestFrameRoundTrip(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 125, 126, 300, 0xFFFF, 0x10000} {
		payload := bytes.Repeat([]byte("x"), n)
		frame := appendFrame(nil, opText, payload, [4]byte{1, 2, 3, 4})
		op, fin, got, err := readFrame(bufio.NewReader(bytes.NewReader(frame)), nil)
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if op != opText || !fin || !bytes.Equal(got, payload) {
			t.Errorf("%d bytes: op %d, fin %v, %d bytes back", n, op, fin, len(got))
		}
	}
}

func TestReadFrameRefusesHugeFrames(t *testing.T) {
	t.Parallel()
	frame := appendFrame(nil, opText, make([]byte, maxFrame+1), [4]byte{})
	if _, _, _, err := readFrame(bufio.NewReader(bytes.NewReader(frame)), nil); err != errFrameTooLarge {
		t.Errorf("err = %v, want errFrameTooLarge", err)
	}
}

func TestCloseCode(t *testing.T) {
	t.Parallel()
	if got := closeCode(nil); got != 1005 {
		t.Errorf("empty close: %d, want 1005", got)
	}
	frame := closeFrame(4410)
	_, _, payload, err := readFrame(bufio.NewReader(bytes.NewReader(frame)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := closeCode(payload); got != 4410 {
		t.Errorf("close code %d, want 4410", got)
	}
}

func TestReadUpgrade(t *testing.T) {
	t.Parallel()
	for answer, ok := range map[string]bool{
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n": true,
		"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n":            false,
		"HTTP/1.1 101 Switching Protocols\r\n":                           false,
	} {
		err := readUpgrade(bufio.NewReader(strings.NewReader(answer)))
		if (err == nil) != ok {
			t.Errorf("%q: err = %v", answer, err)
		}
	}
}
