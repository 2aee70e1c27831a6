package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

// benchToken is the size of a typical gorilla/securecookie token.
var benchToken = strings.Repeat("MTcwMDAwMDAwMHxleUp6YVdRaU9pSmhZbU1p", 5) + "fQ=="

var benchFrames = []struct {
	name string
	data []byte
}{
	{"hello", []byte(`{"type":"hello","token":"` + benchToken + `","idle_ms":1520,"path":"/accounts/profile/"}`)},
	{"activity", []byte(`{"type":"activity","idle_ms":1520}`)},
}

func BenchmarkDecodeClient(b *testing.B) {
	for _, bf := range benchFrames {
		b.Run(bf.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bf.data)))
			for b.Loop() {
				if _, err := DecodeClient(bf.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeClientStdlib decodes the same frames with json.Unmarshal
// into a struct, which is neither strict nor case-sensitive, to compare.
func BenchmarkDecodeClientStdlib(b *testing.B) {
	for _, bf := range benchFrames {
		b.Run(bf.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bf.data)))
			for b.Loop() {
				var f stdClient
				if err := json.Unmarshal(bf.data, &f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

var benchEncode = []struct {
	name string
	ours func([]byte) []byte
	std  any
}{
	{"state", State{Status: StatusActive, WarnAfterMS: 540000, ExpireAfterMS: 600000, ExpireInMS: 600000}.AppendJSON,
		stdState{"state", "active", 0, 540000, 600000, 600000}},
	{"warn", Warn{ExpireInMS: 60000}.AppendJSON, stdWarn{"warn", 60000, "idle"}},
	{"expire", Expire{ReasonIdle, "/accounts/logout/"}.AppendJSON,
		stdExpire{"expire", "idle", "/accounts/logout/"}},
}

// BenchmarkEncode encodes into a reused buffer, as the server does once
// per broadcast.
func BenchmarkEncode(b *testing.B) {
	for _, be := range benchEncode {
		b.Run(be.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 256)
			for b.Loop() {
				buf = be.ours(buf[:0])
			}
		})
	}
}

// BenchmarkEncodeStdlib encodes the same frames with json.Marshal of an
// equivalent struct, to compare.
func BenchmarkEncodeStdlib(b *testing.B) {
	for _, be := range benchEncode {
		b.Run(be.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(be.std); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
