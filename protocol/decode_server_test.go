package protocol

import (
	"testing"
)

func TestDecodeServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want ServerFrame
	}{
		{"state", `{"type":"state","status":"active","idle_ms":0,"warn_after_ms":540000,"expire_after_ms":600000,"expire_in_ms":600000}`,
			ServerFrame{Type: TypeState, Status: StatusActive, WarnAfterMS: 540000, ExpireAfterMS: 600000, ExpireInMS: 600000}},
		{"unknown fields ignored", `{"future":{"a":[1]},"type":"warn","expire_in_ms":60000,"status":"x","status":"y"}`,
			ServerFrame{Type: TypeWarn, ExpireInMS: 60000}},
		{"missing fields zero", `{"type":"state"}`, ServerFrame{Type: TypeState}},
		{"negative", `{"type":"warn","expire_in_ms":-5}`, ServerFrame{Type: TypeWarn, ExpireInMS: -5}},
		{"unknown status kept", `{"type":"state","status":"sleeping"}`, ServerFrame{Type: TypeState, Status: "sleeping"}},
		{"expire", `{"type":"expire","reason":"idle","redirect_url":"\/logout\/"}`,
			ServerFrame{Type: TypeExpire, Reason: ReasonIdle, RedirectURL: "/logout/"}},
		{"error", `{"type":"error","code":"bad_token","message":"no"}`,
			ServerFrame{Type: TypeError, Code: "bad_token", Message: "no"}},
		{"ping", `{"type":"ping","extra":1}`, ServerFrame{Type: TypePing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeServer([]byte(tt.in))
			if err != nil {
				t.Fatalf("DecodeServer(%s): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("DecodeServer(%s)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDecodeServerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		code string
	}{
		{"not an object", `[]`, CodeBadJSON},
		{"trailing data", `{"type":"ping"},`, CodeBadJSON},
		{"no type", `{"status":"active"}`, CodeMissingType},
		{"type twice", `{"type":"ping","type":"ping"}`, CodeDuplicateField},
		{"type number", `{"type":5}`, CodeBadField},
		{"client type", `{"type":"hello"}`, CodeUnknownType},
		{"unknown type", `{"type":"nap"}`, CodeUnknownType},
		{"fraction", `{"type":"warn","expire_in_ms":1.5}`, CodeBadField},
		{"exponent", `{"type":"warn","expire_in_ms":1e3}`, CodeBadField},
		{"overflow", `{"type":"warn","expire_in_ms":9223372036854775808}`, CodeBadField},
		{"string number", `{"type":"state","idle_ms":"1"}`, CodeBadField},
		{"null string", `{"type":"expire","redirect_url":null}`, CodeBadField},
		{"field twice", `{"type":"error","code":"a","code":"b"}`, CodeDuplicateField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeServer([]byte(tt.in))
			if got != (ServerFrame{}) {
				t.Errorf("DecodeServer(%s) frame = %+v, want zero", tt.in, got)
			}
			wantCode(t, err, tt.code)
		})
	}
}
