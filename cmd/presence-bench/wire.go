package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/presence-dev/presence/protocol"
)

// The load client speaks just enough of RFC 6455 to be a tab: the upgrade,
// masked text frames out, unmasked frames in. A full client library costs
// the client more CPU and memory per tab than the server it measures, on
// the same two cores; this one reads into a 512-byte buffer and writes
// prebuilt frames.

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// maxFrame bounds what a tab accepts from the server; presence's frames
// are a few hundred bytes.
const maxFrame = 1 << 16

// upgradeRequest is the opening handshake of a tab, offering protocol v1.
func upgradeRequest(host string) []byte {
	var key [16]byte
	rand.Read(key[:])
	return []byte("GET /ws HTTP/1.1\r\nHost: " + host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
		base64.StdEncoding.EncodeToString(key[:]) +
		"\r\nSec-WebSocket-Protocol: " + protocol.Subprotocol + "\r\n\r\n")
}

// readUpgrade reads the server's answer to the handshake and returns an
// error unless it is 101 Switching Protocols.
func readUpgrade(br *bufio.Reader) error {
	status, err := br.ReadString('\n')
	if err != nil {
		return fmt.Errorf("read upgrade answer: %w", err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return fmt.Errorf("read upgrade headers: %w", err)
		}
		if line == "\r\n" {
			break
		}
	}
	if !strings.HasPrefix(status, "HTTP/1.1 101 ") {
		return fmt.Errorf("upgrade refused: %s", strings.TrimSpace(status))
	}
	return nil
}

// appendFrame appends one final client frame of op carrying payload,
// masked with key as clients must mask.
func appendFrame(b []byte, op byte, payload []byte, key [4]byte) []byte {
	b = append(b, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i&3])
	}
	return b
}

// textFrame returns a client text frame holding f, masked with a fresh
// key.
func textFrame(f protocol.ClientFrame) []byte {
	var key [4]byte
	rand.Read(key[:])
	return appendFrame(nil, opText, f.AppendJSON(nil), key)
}

// closeFrame returns a client close frame with code.
func closeFrame(code uint16) []byte {
	var key [4]byte
	rand.Read(key[:])
	return appendFrame(nil, opClose, binary.BigEndian.AppendUint16(nil, code), key)
}

// errFrameTooLarge is a server frame over maxFrame.
var errFrameTooLarge = errors.New("server frame too large")

// readFrame reads one frame from the server into buf, growing it, and
// returns its opcode, whether it is the last of its message, and its
// payload.
func readFrame(br *bufio.Reader, buf []byte) (op byte, fin bool, payload []byte, err error) {
	var head [2]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return 0, false, nil, err
	}
	op, fin = head[0]&0x0F, head[0]&0x80 != 0
	masked := head[1]&0x80 != 0
	n := uint64(head[1] & 0x7F)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return 0, false, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return 0, false, nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > maxFrame {
		return 0, false, nil, errFrameTooLarge
	}
	var key [4]byte
	if masked {
		if _, err := io.ReadFull(br, key[:]); err != nil {
			return 0, false, nil, err
		}
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	payload = buf[:n]
	if _, err := io.ReadFull(br, payload); err != nil {
		return 0, false, nil, err
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i&3]
		}
	}
	return op, fin, payload, nil
}

// closeCode returns the status code of a close frame's payload, or 1005
// (no status) for an empty one.
func closeCode(payload []byte) int {
	if len(payload) < 2 {
		return 1005
	}
	return int(binary.BigEndian.Uint16(payload))
}

// dialer makes the tabs' connections from local, a loopback address of
// its own, so that tens of thousands of tabs do not run out of ephemeral
// ports: IP_BIND_ADDRESS_NO_PORT lets the kernel choose the port at
// connect time, per destination, instead of at bind time.
func dialer(local string) *net.Dialer {
	return &net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)},
		Control:   bindAddressNoPort,
	}
}
