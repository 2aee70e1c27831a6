package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/presence-dev/presence/internal/jsonscan"
)

// validObject reports whether data is one valid JSON object by
// encoding/json's judgement, and valid UTF-8: what a frame must be.
func validObject(data []byte) bool {
	if !utf8.Valid(data) || !json.Valid(data) {
		return false
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// FuzzDecodeClient checks that DecodeClient never panics, refuses with
// bad_json exactly what encoding/json deems not one valid object (or not
// UTF-8), agrees with encoding/json on the frames it accepts, and reads
// back what AppendJSON writes of them.
func FuzzDecodeClient(f *testing.F) {
	for _, tt := range decodeErrorTests {
		if len(tt.in) <= 1024 {
			f.Add([]byte(tt.in))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeClient(data)
		valid := validObject(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			switch e.Code {
			case CodeBadJSON, CodeMissingType, CodeUnknownType, CodeBadField, CodeUnknownField, CodeDuplicateField:
			default:
				t.Fatalf("unknown code %q", e.Code)
			}
			if (e.Code == CodeBadJSON) == valid {
				t.Fatalf("code %s (%s), but encoding/json says valid object: %v", e.Code, e.Message, valid)
			}
			if got != (ClientFrame{}) || e.Message == "" {
				t.Fatalf("frame %+v, message %q", got, e.Message)
			}
			return
		}
		if !valid {
			t.Fatalf("accepted %q, which encoding/json refuses", data)
		}

		var std map[string]any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&std); err != nil {
			t.Fatal(err)
		}
		if std["type"] != string(got.Type) {
			t.Fatalf("type %q, encoding/json %q", got.Type, std["type"])
		}
		checkString := func(name, got string) {
			if v, ok := std[name]; ok && v != got || !ok && got != "" {
				t.Fatalf("%s %q, encoding/json %q", name, got, v)
			}
		}
		checkString("token", got.Token)
		checkString("path", got.Path)
		if v, ok := std["idle_ms"]; ok && v.(json.Number).String() != strconv.FormatInt(got.IdleMS, 10) || !ok && got.IdleMS != 0 {
			t.Fatalf("idle_ms %d, encoding/json %v", got.IdleMS, v)
		}

		again, err := DecodeClient(got.AppendJSON(nil))
		if err != nil || again != got {
			t.Fatalf("round trip of %+v: %+v, %v", got, again, err)
		}
	})
}

// FuzzAppendString checks that appendString writes what encoding/json
// writes and that the scanner reads it back.
func FuzzAppendString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendString(nil, s)
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, encoding/json %s", s, got, want)
		}
		end, escaped, ok := jsonscan.ScanString(got, 0)
		if !ok || end != len(got) {
			t.Fatalf("jsonscan.ScanString(%s) = %d, %v", got, end, ok)
		}
		back := got[1 : len(got)-1]
		if escaped {
			back = jsonscan.AppendUnescaped(nil, back)
		}
		if utf8.ValidString(s) && string(back) != s {
			t.Fatalf("read back %q, want %q", back, s)
		}
	})
}

// FuzzDecodeServer checks that DecodeServer never panics and reads back
// what the AppendJSON methods write of the frames it accepts.
func FuzzDecodeServer(f *testing.F) {
	f.Add([]byte(`{"type":"state","status":"active","idle_ms":0,"warn_after_ms":540000,"expire_after_ms":600000,"expire_in_ms":600000}`))
	f.Add([]byte(`{"type":"warn","expire_in_ms":60000,"x":[1]}`))
	f.Add([]byte(`{"type":"expire","reason":"idle","redirect_url":"/logout/"}`))
	f.Add([]byte(`{"type":"error","code":"bad_json","message":"m\u00e9"}`))
	f.Add([]byte(`{"type":"ping"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeServer(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is a %T, want *Error", err, err)
			}
			return
		}
		var b []byte
		switch got.Type {
		case TypeState:
			b = State{got.Status, got.IdleMS, got.WarnAfterMS, got.ExpireAfterMS, got.ExpireInMS, got.EndInMS, got.HasEnd}.AppendJSON(nil)
		case TypeWarn:
			if got.Kind == "" {
				got.Kind = WarnIdle // a warn without kind is an idle one, as written
			}
			b = Warn{got.ExpireInMS, got.Kind}.AppendJSON(nil)
		case TypeExpire:
			b = Expire{got.Reason, got.RedirectURL}.AppendJSON(nil)
		case TypePing:
			b = Ping{}.AppendJSON(nil)
		case TypeError:
			b = (&Error{got.Code, got.Message}).AppendJSON(nil)
		default:
			t.Fatalf("accepted type %q", got.Type)
		}
		again, err := DecodeServer(b)
		if err != nil || again != got {
			t.Fatalf("round trip of %+v: %+v, %v", got, again, err)
		}
	})
}
