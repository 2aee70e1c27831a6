package protocol

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// The std* types are the frames as encoding/json would write them, to
// compare against.
type (
	stdState struct {
		Type          string `json:"type"`
		Status        string `json:"status"`
		IdleMS        int64  `json:"idle_ms"`
		WarnAfterMS   int64  `json:"warn_after_ms"`
		ExpireAfterMS int64  `json:"expire_after_ms"`
		ExpireInMS    int64  `json:"expire_in_ms"`
	}
	stdWarn struct {
		Type       string `json:"type"`
		ExpireInMS int64  `json:"expire_in_ms"`
		Kind       string `json:"kind"`
	}
	stdStateEnd struct {
		stdState
		EndInMS int64 `json:"end_in_ms"`
	}
	stdExpire struct {
		Type        string `json:"type"`
		Reason      string `json:"reason"`
		RedirectURL string `json:"redirect_url"`
	}
	stdError struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	stdClient struct {
		Type    string `json:"type"`
		Token   string `json:"token,omitempty"`
		IdleMS  int64  `json:"idle_ms,omitempty"`
		Path    string `json:"path,omitempty"`
		Passive bool   `json:"passive,omitempty"`
		Tabs    int    `json:"tabs,omitempty"`
	}
)

// trickyStrings need every kind of escape.
var trickyStrings = []string{
	"",
	"plain",
	"/accounts/logout/?next=/a&b=<c>",
	`quote " and backslash \ and slash /`,
	"\x00\x01\x07\b\t\n\v\f\r\x1b\x1f\x7f",
	"café 日本語 😀",
	"line\u2028para\u2029end",
	"bad \xff utf-8 \xc3 and \xed\xa0\x80 surrogate",
	"\xf0\x9f\x98", // truncated rune at the end
	"</script><script>alert(1)</script>",
	"\ufffd\ufeff",
	strings.Repeat("a\"", 300),
}

func TestAppendJSONMatchesStdlib(t *testing.T) {
	t.Parallel()
	type test struct {
		name string
		got  []byte
		std  any
	}
	tests := []test{
		{"state", State{StatusActive, 0, 540000, 600000, 600000, 0, false}.AppendJSON(nil),
			stdState{"state", "active", 0, 540000, 600000, 600000}},
		{"state warning", State{StatusWarning, 545000, 540000, 600000, 55000, 0, false}.AppendJSON(nil),
			stdState{"state", "warning", 545000, 540000, 600000, 55000}},
		{"state extremes", State{"", -1 << 63, 1<<63 - 1, -1, 0, 0, false}.AppendJSON(nil),
			stdState{"state", "", -1 << 63, 1<<63 - 1, -1, 0}},
		{"state with an end", State{StatusActive, 0, 540000, 600000, 600000, 0, true}.AppendJSON(nil),
			stdStateEnd{stdState{"state", "active", 0, 540000, 600000, 600000}, 0}},
		{"warn", Warn{ExpireInMS: 60000}.AppendJSON(nil), stdWarn{"warn", 60000, "idle"}},
		{"warn lifetime", Warn{60000, WarnLifetime}.AppendJSON(nil), stdWarn{"warn", 60000, "lifetime"}},
		{"expire", Expire{ReasonIdle, "/logout/"}.AppendJSON(nil), stdExpire{"expire", "idle", "/logout/"}},
		{"expire no redirect", Expire{ReasonLogout, ""}.AppendJSON(nil), stdExpire{"expire", "logout", ""}},
		{"ping", Ping{}.AppendJSON(nil), struct {
			Type string `json:"type"`
		}{"ping"}},
		{"error", (&Error{CodeBadJSON, "frame must be one JSON object: got null"}).AppendJSON(nil),
			stdError{"error", "bad_json", "frame must be one JSON object: got null"}},
		{"hello", ClientFrame{TypeHello, secret, 1500, "/a", false, 0}.AppendJSON(nil),
			stdClient{"hello", secret, 1500, "/a", false, 0}},
		{"hello passive", ClientFrame{TypeHello, secret, 1500, "/a", true, 0}.AppendJSON(nil),
			stdClient{"hello", secret, 1500, "/a", true, 0}},
		{"hello bare", ClientFrame{Type: TypeHello}.AppendJSON(nil), stdClient{Type: "hello"}},
		{"activity", ClientFrame{Type: TypeActivity, IdleMS: 3}.AppendJSON(nil),
			stdClient{Type: "activity", IdleMS: 3}},
		{"activity drops token", ClientFrame{Type: TypeActivity, Token: "t", Path: "/"}.AppendJSON(nil),
			stdClient{Type: "activity"}},
		{"extend", ClientFrame{Type: TypeExtend, IdleMS: 3}.AppendJSON(nil), stdClient{Type: "extend"}},
		{"tabs", ClientFrame{Type: TypeTabs, Tabs: 4}.AppendJSON(nil), stdClient{Type: "tabs", Tabs: 4}},
		{"join", ClientFrame{Type: TypeJoin, Token: "t", IdleMS: 7, Path: "/p", Passive: true}.AppendJSON(nil),
			stdClient{Type: "join", IdleMS: 7, Path: "/p", Passive: true}},
		{"not a client type", ClientFrame{Type: "x\n", IdleMS: 3}.AppendJSON(nil), stdClient{Type: "x\n"}},
	}
	for i, s := range trickyStrings {
		tests = append(tests,
			test{"expire tricky " + string(rune('a'+i)), Expire{Reason(s), s}.AppendJSON(nil), stdExpire{"expire", s, s}},
			test{"error tricky " + string(rune('a'+i)), (&Error{s, s}).AppendJSON(nil), stdError{"error", s, s}},
			test{"hello tricky " + string(rune('a'+i)), ClientFrame{TypeHello, s, 1, s, false, 0}.AppendJSON(nil), stdClient{"hello", s, 1, s, false, 0}},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want, err := json.Marshal(tt.std)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tt.got, want) {
				t.Errorf("AppendJSON\n got %s\nwant %s", tt.got, want)
			}
		})
	}
}

func TestAppendJSONAppends(t *testing.T) {
	t.Parallel()
	b := []byte("prefix ")
	b = Warn{ExpireInMS: 1}.AppendJSON(b)
	b = append(b, ' ')
	b = Ping{}.AppendJSON(b)
	if want := `prefix {"type":"warn","expire_in_ms":1,"kind":"idle"} {"type":"ping"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestServerFrameRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		want ServerFrame
	}{
		{"state", State{StatusWarning, 545000, 540000, 600000, 55000, 0, false}.AppendJSON(nil),
			ServerFrame{Type: TypeState, Status: StatusWarning, IdleMS: 545000, WarnAfterMS: 540000,
				ExpireAfterMS: 600000, ExpireInMS: 55000}},
		{"state with an end", State{StatusActive, 0, 540000, 600000, 600000, 7, true}.AppendJSON(nil),
			ServerFrame{Type: TypeState, Status: StatusActive, WarnAfterMS: 540000,
				ExpireAfterMS: 600000, ExpireInMS: 600000, EndInMS: 7, HasEnd: true}},
		{"warn", Warn{ExpireInMS: 60000}.AppendJSON(nil), ServerFrame{Type: TypeWarn, ExpireInMS: 60000, Kind: WarnIdle}},
		{"warn lifetime", Warn{60000, WarnLifetime}.AppendJSON(nil), ServerFrame{Type: TypeWarn, ExpireInMS: 60000, Kind: WarnLifetime}},
		{"expire", Expire{ReasonRevoked, "/bye?a=<b>&c=\u2028"}.AppendJSON(nil),
			ServerFrame{Type: TypeExpire, Reason: ReasonRevoked, RedirectURL: "/bye?a=<b>&c=\u2028"}},
		{"ping", Ping{}.AppendJSON(nil), ServerFrame{Type: TypePing}},
		{"error", (&Error{"bad_token", "token \"expired\"\n"}).AppendJSON(nil),
			ServerFrame{Type: TypeError, Code: "bad_token", Message: "token \"expired\"\n"}},
		{"token", Token{Token: "MTc2NDQ2fGV5SnphV1FpT2lKek1TSjl8w6k="}.AppendJSON(nil),
			ServerFrame{Type: TypeToken, Token: "MTc2NDQ2fGV5SnphV1FpT2lKek1TSjl8w6k="}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !json.Valid(tt.data) {
				t.Fatalf("invalid JSON: %s", tt.data)
			}
			got, err := DecodeServer(tt.data)
			if err != nil {
				t.Fatalf("DecodeServer(%s): %v", tt.data, err)
			}
			if got != tt.want {
				t.Errorf("DecodeServer(%s)\n got %+v\nwant %+v", tt.data, got, tt.want)
			}
			// encoding/json reads the same values.
			var std struct {
				Type          Type     `json:"type"`
				Status        Status   `json:"status"`
				IdleMS        int64    `json:"idle_ms"`
				WarnAfterMS   int64    `json:"warn_after_ms"`
				ExpireAfterMS int64    `json:"expire_after_ms"`
				ExpireInMS    int64    `json:"expire_in_ms"`
				EndInMS       *int64   `json:"end_in_ms"`
				Kind          WarnKind `json:"kind"`
				Reason        Reason   `json:"reason"`
				RedirectURL   string   `json:"redirect_url"`
				Code          string   `json:"code"`
				Message       string   `json:"message"`
				Token         string   `json:"token"`
			}
			if err := json.Unmarshal(tt.data, &std); err != nil {
				t.Fatal(err)
			}
			got = ServerFrame{Type: std.Type, Status: std.Status, IdleMS: std.IdleMS, WarnAfterMS: std.WarnAfterMS,
				ExpireAfterMS: std.ExpireAfterMS, ExpireInMS: std.ExpireInMS, Kind: std.Kind, Reason: std.Reason,
				RedirectURL: std.RedirectURL, Code: std.Code, Message: std.Message, Token: std.Token}
			if std.EndInMS != nil {
				got.EndInMS, got.HasEnd = *std.EndInMS, true
			}
			if got != tt.want {
				t.Errorf("json.Unmarshal(%s)\n got %+v\nwant %+v", tt.data, std, tt.want)
			}
		})
	}
}

func TestClientFrameRoundTrip(t *testing.T) {
	t.Parallel()
	for _, f := range []ClientFrame{
		{Type: TypeHello, Token: secret, IdleMS: 12, Path: "/café/<x>?a=1&b=\"2\""},
		{Type: TypeHello, IdleMS: MaxIdleMS},
		{Type: TypeHello, Path: "\x01\u2028"},
		{Type: TypeActivity, IdleMS: 1},
		{Type: TypeActivity},
		{Type: TypeExtend},
		{Type: TypeLogout},
		{Type: TypePong},
	} {
		t.Run(string(f.Type), func(t *testing.T) {
			t.Parallel()
			data := f.AppendJSON(nil)
			got, err := DecodeClient(data)
			if err != nil {
				t.Fatalf("DecodeClient(%s): %v", data, err)
			}
			if got != f {
				t.Errorf("DecodeClient(%s) = %+v, want %+v", data, got, f)
			}
		})
	}
}

func TestAppendJSONAllocs(t *testing.T) {
	long := strings.Join(trickyStrings, "")
	tests := []struct {
		name string
		fn   func([]byte) []byte
	}{
		{"state", State{StatusActive, 1, 540000, 600000, 599999, 3600000, true}.AppendJSON},
		{"warn", Warn{60000, WarnLifetime}.AppendJSON},
		{"expire", Expire{ReasonIdle, "/accounts/logout/?next=/a&b=<c>"}.AppendJSON},
		{"expire tricky", Expire{ReasonIdle, long}.AppendJSON},
		{"ping", Ping{}.AppendJSON},
		{"error", (&Error{CodeBadField, long}).AppendJSON},
		{"hello", ClientFrame{TypeHello, secret, 5, long, true, 0}.AppendJSON},
	}
	buf := make([]byte, 0, 4096)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := testing.AllocsPerRun(100, func() {
				buf = tt.fn(buf[:0])
			})
			if n != 0 {
				t.Errorf("AppendJSON allocates %v times with room in the buffer, want 0", n)
			}
		})
	}
}
