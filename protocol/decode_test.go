package protocol

import (
	"errors"
	"strings"
	"testing"

	"github.com/presence-dev/presence/internal/jsonscan"
)

// secret stands for a token in frames: no error message may contain it.
const secret = "s3cr3t-t0ken"

func TestDecodeClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want ClientFrame
	}{
		{"hello", `{"type":"hello","token":"` + secret + `","idle_ms":1500,"path":"/a/b?c=d"}`,
			ClientFrame{Type: TypeHello, Token: secret, IdleMS: 1500, Path: "/a/b?c=d"}},
		{"hello bare", `{"type":"hello"}`, ClientFrame{Type: TypeHello}},
		{"hello passive", `{"type":"hello","token":"t","idle_ms":5,"path":"/p","passive":true}`,
			ClientFrame{Type: TypeHello, Token: "t", IdleMS: 5, Path: "/p", Passive: true}},
		{"hello not passive", `{"type":"hello","passive":false}`, ClientFrame{Type: TypeHello}},
		{"tabs", `{"type":"tabs","tabs":5}`, ClientFrame{Type: TypeTabs, Tabs: 5}},
		{"join", `{"type":"join","idle_ms":1500,"path":"/a","passive":true}`, ClientFrame{Type: TypeJoin, IdleMS: 1500, Path: "/a", Passive: true}},
		{"join bare", `{"type":"join"}`, ClientFrame{Type: TypeJoin}},
		{"tabs at most", `{"type":"tabs","tabs":1000}`, ClientFrame{Type: TypeTabs, Tabs: MaxSharedTabs}},
		{"hello empty strings", `{"type":"hello","token":"","path":""}`, ClientFrame{Type: TypeHello}},
		{"hello any order", `{"path":"/","idle_ms":2,"token":"t","type":"hello"}`,
			ClientFrame{Type: TypeHello, Token: "t", IdleMS: 2, Path: "/"}},
		{"whitespace", " \t\r\n{ \"type\" :\n\"activity\" ,\t\"idle_ms\" : 7 }\r\n ",
			ClientFrame{Type: TypeActivity, IdleMS: 7}},
		{"activity", `{"type":"activity","idle_ms":0}`, ClientFrame{Type: TypeActivity}},
		{"activity no idle_ms", `{"type":"activity"}`, ClientFrame{Type: TypeActivity}},
		{"activity max", `{"type":"activity","idle_ms":9007199254740991}`,
			ClientFrame{Type: TypeActivity, IdleMS: MaxIdleMS}},
		{"extend", `{"type":"extend"}`, ClientFrame{Type: TypeExtend}},
		{"logout", `{"type":"logout"}`, ClientFrame{Type: TypeLogout}},
		{"pong", `{"type":"pong"}`, ClientFrame{Type: TypePong}},
		{"escaped names", `{"typ\u0065":"activity","idle_\u006Ds":7}`,
			ClientFrame{Type: TypeActivity, IdleMS: 7}},
		{"escaped type", `{"type":"\u0068ello"}`, ClientFrame{Type: TypeHello}},
		{"escaped strings", `{"type":"hello","token":"a\/b","path":"/caf\u00e9/\"q\"\\\n\t\ud83d\ude00"}`,
			ClientFrame{Type: TypeHello, Token: "a/b", Path: "/café/\"q\"\\\n\t😀"}},
		{"lone surrogate", `{"type":"hello","path":"a\ud800b\udc00"}`,
			ClientFrame{Type: TypeHello, Path: "a\ufffdb\ufffd"}},
		{"raw UTF-8", `{"type":"hello","path":"/日本/café` + "\u2028" + `"}`,
			ClientFrame{Type: TypeHello, Path: "/日本/café\u2028"}},
		{"long token", `{"type":"hello","token":"` + strings.Repeat("A", 1<<20) + `"}`,
			ClientFrame{Type: TypeHello, Token: strings.Repeat("A", 1<<20)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeClient([]byte(tt.in))
			if err != nil {
				t.Fatalf("DecodeClient(%.80q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("DecodeClient(%.80q) = %+.80v, want %+.80v", tt.in, got, tt.want)
			}
		})
	}
}

// decodeErrorTests are frames DecodeClient refuses, by the Code it must
// give.
var decodeErrorTests = []struct {
	name string
	in   string
	code string
}{
	{"empty", ``, CodeBadJSON},
	{"passive not a bool", `{"type":"hello","passive":"yes"}`, CodeBadField},
	{"passive null", `{"type":"hello","passive":null}`, CodeBadField},
	{"passive in activity", `{"type":"activity","passive":true}`, CodeUnknownField},
	{"passive twice", `{"type":"hello","passive":true,"passive":false}`, CodeDuplicateField},
	{"tabs without tabs", `{"type":"tabs"}`, CodeBadField},
	{"tabs zero", `{"type":"tabs","tabs":0}`, CodeBadField},
	{"tabs negative", `{"type":"tabs","tabs":-1}`, CodeBadField},
	{"tabs too many", `{"type":"tabs","tabs":1001}`, CodeBadField},
	{"tabs a fraction", `{"type":"tabs","tabs":2.5}`, CodeBadField},
	{"tabs a string", `{"type":"tabs","tabs":"3"}`, CodeBadField},
	{"tabs huge", `{"type":"tabs","tabs":99999999999999999999999}`, CodeBadField},
	{"tabs in activity", `{"type":"activity","tabs":2}`, CodeUnknownField},
	{"tabs with idle_ms", `{"type":"tabs","tabs":2,"idle_ms":1}`, CodeUnknownField},
	{"tabs twice", `{"type":"tabs","tabs":2,"tabs":3}`, CodeDuplicateField},
	{"join with a token", `{"type":"join","token":"t"}`, CodeUnknownField},
	{"join with tabs", `{"type":"join","tabs":2}`, CodeUnknownField},
	{"join idle_ms negative", `{"type":"join","idle_ms":-1}`, CodeBadField},
	{"join path a number", `{"type":"join","path":3}`, CodeBadField},
	{"hello with a fifth member", `{"type":"hello","token":"t","idle_ms":1,"path":"/","passive":true,"x":1}`, CodeUnknownField},
	{"only space", " \n\t ", CodeBadJSON},
	{"null", `null`, CodeBadJSON},
	{"array", `[]`, CodeBadJSON},
	{"array of frame", `[{"type":"hello"}]`, CodeBadJSON},
	{"string", `"hello"`, CodeBadJSON},
	{"number", `42`, CodeBadJSON},
	{"bool", `true`, CodeBadJSON},
	{"unclosed", `{`, CodeBadJSON},
	{"unclosed member", `{"type":"hello"`, CodeBadJSON},
	{"unclosed string", `{"type":"hello`, CodeBadJSON},
	{"trailing comma", `{"type":"hello",}`, CodeBadJSON},
	{"leading comma", `{,"type":"hello"}`, CodeBadJSON},
	{"missing comma", `{"type":"hello" "path":"/"}`, CodeBadJSON},
	{"missing colon", `{"type" "hello"}`, CodeBadJSON},
	{"second object", `{"type":"hello"} {}`, CodeBadJSON},
	{"trailing garbage", `{"type":"hello"}x`, CodeBadJSON},
	{"trailing NUL", "{\"type\":\"hello\"}\x00", CodeBadJSON},
	{"byte order mark", "\ufeff{\"type\":\"hello\"}", CodeBadJSON},
	{"single quotes", `{'type':'hello'}`, CodeBadJSON},
	{"bare name", `{type:"hello"}`, CodeBadJSON},
	{"invalid UTF-8 in string", "{\"type\":\"hello\",\"path\":\"\xff\"}", CodeBadJSON},
	{"invalid UTF-8 in name", "{\"type\":\"hello\",\"\xc3\":1}", CodeBadJSON},
	{"surrogate as UTF-8", "{\"type\":\"hello\",\"path\":\"\xed\xa0\x80\"}", CodeBadJSON},
	{"control char in string", "{\"type\":\"hello\",\"path\":\"a\x01b\"}", CodeBadJSON},
	{"newline in string", "{\"type\":\"hello\",\"path\":\"a\nb\"}", CodeBadJSON},
	{"bad escape", `{"type":"hello","path":"\x41"}`, CodeBadJSON},
	{"bad unicode escape", `{"type":"hello","path":"\u12G4"}`, CodeBadJSON},
	{"short unicode escape", `{"type":"hello","path":"\u12"}`, CodeBadJSON},
	{"leading zero", `{"type":"activity","idle_ms":01}`, CodeBadJSON},
	{"bare fraction", `{"type":"activity","idle_ms":1.}`, CodeBadJSON},
	{"bare minus", `{"type":"activity","idle_ms":-}`, CodeBadJSON},
	{"plus", `{"type":"activity","idle_ms":+1}`, CodeBadJSON},
	{"hex", `{"type":"activity","idle_ms":0x10}`, CodeBadJSON},
	{"NaN", `{"type":"activity","idle_ms":NaN}`, CodeBadJSON},
	{"nul literal", `{"type":"activity","idle_ms":nul}`, CodeBadJSON},
	{"bad nested value", `{"type":"hello","x":[1,2}`, CodeBadJSON},
	{"bad nested object", `{"x":{"a":1,},"type":"hello"}`, CodeBadJSON},
	{"too deep", `{"type":"pong","x":` + strings.Repeat("[", jsonscan.MaxDepth) + strings.Repeat("]", jsonscan.MaxDepth) + `}`, CodeBadJSON},
	{"huge array", strings.Repeat("[", 1<<20), CodeBadJSON},
	{"huge unclosed", `{"type":"pong","x":` + strings.Repeat(`[{"a":`, 1<<16), CodeBadJSON},

	{"no members", `{}`, CodeMissingType},
	{"no type", `{"idle_ms":1}`, CodeMissingType},
	{"Type", `{"Type":"hello"}`, CodeMissingType},
	{"TYPE", `{"TYPE":"activity","idle_ms":1}`, CodeMissingType},

	{"unknown type", `{"type":"hi"}`, CodeUnknownType},
	{"Hello", `{"type":"Hello"}`, CodeUnknownType},
	{"type with space", `{"type":"hello "}`, CodeUnknownType},
	{"empty type", `{"type":""}`, CodeUnknownType},
	{"server type state", `{"type":"state"}`, CodeUnknownType},
	{"server type ping", `{"type":"ping"}`, CodeUnknownType},
	{"server type error", `{"type":"error","code":"x","message":"y"}`, CodeUnknownType},
	{"long type", `{"type":"` + strings.Repeat("x", 10000) + `"}`, CodeUnknownType},
	{"escaped long type", `{"type":"` + strings.Repeat(`\u0078`, 100) + `"}`, CodeUnknownType},

	{"type number", `{"type":1}`, CodeBadField},
	{"type null", `{"type":null}`, CodeBadField},
	{"type array", `{"type":["hello"]}`, CodeBadField},
	{"type object", `{"type":{"type":"hello"}}`, CodeBadField},
	{"idle_ms fraction", `{"type":"activity","idle_ms":1.5}`, CodeBadField},
	{"idle_ms whole fraction", `{"type":"activity","idle_ms":1.0}`, CodeBadField},
	{"idle_ms exponent", `{"type":"activity","idle_ms":1e3}`, CodeBadField},
	{"idle_ms Exponent", `{"type":"activity","idle_ms":1E+3}`, CodeBadField},
	{"idle_ms negative", `{"type":"activity","idle_ms":-1}`, CodeBadField},
	{"idle_ms minus zero", `{"type":"activity","idle_ms":-0}`, CodeBadField},
	{"idle_ms too big", `{"type":"activity","idle_ms":9007199254740992}`, CodeBadField},
	{"idle_ms huge", `{"type":"activity","idle_ms":99999999999999999999999999999}`, CodeBadField},
	{"idle_ms null", `{"type":"activity","idle_ms":null}`, CodeBadField},
	{"idle_ms string", `{"type":"activity","idle_ms":"5"}`, CodeBadField},
	{"idle_ms bool", `{"type":"hello","idle_ms":true}`, CodeBadField},
	{"idle_ms object", `{"type":"hello","idle_ms":{"ms":5}}`, CodeBadField},
	{"idle_ms array", `{"type":"activity","idle_ms":[5]}`, CodeBadField},
	{"token number", `{"type":"hello","token":12345}`, CodeBadField},
	{"token null", `{"type":"hello","token":null}`, CodeBadField},
	{"token object", `{"type":"hello","token":{"t":"` + secret + `"}}`, CodeBadField},
	{"token array", `{"type":"hello","token":["` + secret + `"]}`, CodeBadField},
	{"path number", `{"type":"hello","path":1}`, CodeBadField},
	{"path false", `{"type":"hello","path":false}`, CodeBadField},

	{"IDLE_MS", `{"type":"activity","IDLE_MS":1}`, CodeUnknownField},
	{"idle", `{"type":"activity","idle":1}`, CodeUnknownField},
	{"Token", `{"type":"hello","Token":"` + secret + `"}`, CodeUnknownField},
	{"Type beside type", `{"type":"hello","Type":"hello"}`, CodeUnknownField},
	{"token in activity", `{"type":"activity","token":"` + secret + `"}`, CodeUnknownField},
	{"path in activity", `{"type":"activity","path":"/"}`, CodeUnknownField},
	{"idle_ms in extend", `{"type":"extend","idle_ms":1}`, CodeUnknownField},
	{"anything in logout", `{"type":"logout","all":true}`, CodeUnknownField},
	{"nested in pong", `{"type":"pong","x":{"deep":[1,2,{"a":null}],"b":"c"}}`, CodeUnknownField},
	{"just deep enough", `{"type":"pong","x":` + strings.Repeat("[", jsonscan.MaxDepth-1) + strings.Repeat("]", jsonscan.MaxDepth-1) + `}`, CodeUnknownField},
	{"before type", `{"x":1,"type":"extend"}`, CodeUnknownField},
	{"empty name", `{"type":"hello","":1}`, CodeUnknownField},
	{"long name", `{"type":"hello","` + strings.Repeat("n", 10000) + `":1}`, CodeUnknownField},
	{"many members", `{"type":"hello"` + strings.Repeat(`,"a":1`, 100000) + `}`, CodeUnknownField},
	{"first fault wins", `{"type":"activity","idle_ms":1.5,"x":1}`, CodeBadField},

	{"type twice", `{"type":"hello","type":"hello"}`, CodeDuplicateField},
	{"type twice differing", `{"type":"hello","type":1}`, CodeDuplicateField},
	{"type escaped twice", `{"type":"activity","typ\u0065":"activity"}`, CodeDuplicateField},
	{"idle_ms twice", `{"type":"activity","idle_ms":1,"idle_ms":2}`, CodeDuplicateField},
	{"token twice", `{"type":"hello","token":"` + secret + `","token":"` + secret + `"}`, CodeDuplicateField},
	{"path escaped twice", `{"type":"hello","path":"a","pat\u0068":"b"}`, CodeDuplicateField},
	{"duplicate among many", `{"type":"hello","path":"a","path":"b","c":1,"d":1,"e":1}`, CodeDuplicateField},
}

func TestDecodeClientErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range decodeErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeClient([]byte(tt.in))
			if got != (ClientFrame{}) {
				t.Errorf("DecodeClient(%.80q) frame = %+v, want zero", tt.in, got)
			}
			e := wantCode(t, err, tt.code)
			if strings.Contains(e.Message, secret) {
				t.Errorf("message %q echoes a token", e.Message)
			}
			if len(e.Message) > 200 {
				t.Errorf("message is %d bytes long: %.300q", len(e.Message), e.Message)
			}
		})
	}
}

// wantCode checks that err is an *Error with the code and returns it.
func wantCode(t *testing.T, err error, code string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *Error with code %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%s), want %s", e.Code, e.Message, code)
	}
	return e
}

func TestDecodeClientMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{`{"type":"activity","idle":1}`,
			`unknown field "idle" in activity frame (it has type and idle_ms)`},
		{`{"type":"activity","IDLE_MS":1}`,
			`unknown field "IDLE_MS" in activity frame (names are case-sensitive: did you mean "idle_ms"?)`},
		{`{"type":"extend","x":1}`,
			`unknown field "x" in extend frame (it has only type)`},
		{`{"type":"hello","pth":"/"}`,
			`unknown field "pth" in hello frame (it has type, token, idle_ms and path)`},
		{`{"type":"activity","idle_ms":1.5}`,
			`idle_ms must be a whole number of milliseconds from 0 to 9007199254740991, got 1.5`},
		{`{"type":"activity","idle_ms":null}`,
			`idle_ms must be a whole number of milliseconds from 0 to 9007199254740991, got null`},
		{`{"type":"hello","token":1}`, `token must be a JSON string, got a number`},
		{`{"type":["hello"]}`, `type must be a JSON string, got an array`},
		{`{"Type":"hello"}`, `frame has no "type" member (names are case-sensitive: found "Type")`},
		{`{"type":"state"}`, `"state" is a server-to-client frame type (a client sends hello, activity, extend, logout, pong, tabs or join)`},
		{`{"type":"helo"}`, `unknown frame type "helo" (a client sends hello, activity, extend, logout, pong, tabs or join)`},
		{`{"type":"hello","path":"a","path":"b"}`, `duplicate field "path"`},
		{`{"type":"hello"}{}`, `frame must be one JSON object: data after the object at byte 16`},
		{`{"type":"hello"`, `frame must be one JSON object: unexpected end of data`},
		{`{"type":hello}`, `frame must be one JSON object: syntax error at byte 8`},
		{`[1]`, `frame must be one JSON object: got an array`},
		{"\xff", `frame must be one JSON object: invalid UTF-8`},
		{`{"type":"activity","` + strings.Repeat("é", 40) + `":1}`,
			`unknown field "` + strings.Repeat("é", 16) + `"... in activity frame (it has type and idle_ms)`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeClient([]byte(tt.in))
			if err == nil {
				t.Fatalf("DecodeClient(%q) succeeded", tt.in)
			}
			if got := err.(*Error).Message; got != tt.want {
				t.Errorf("DecodeClient(%q) message\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestDecodeClientNilError(t *testing.T) {
	t.Parallel()
	_, err := DecodeClient([]byte(`{"type":"pong"}`))
	if err != nil {
		t.Fatalf("err = %#v, want a nil interface", err)
	}
}

func TestDecodeClientAllocs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  float64
	}{
		{"activity", `{"type":"activity","idle_ms":1234}`, 0},
		{"extend", `{"type":"extend"}`, 0},
		{"escaped type", `{"typ\u0065":"\u0070ong"}`, 0},
		{"hello", `{"type":"hello","token":"` + secret + `","idle_ms":5,"path":"/x"}`, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.in)
			n := testing.AllocsPerRun(100, func() {
				if _, err := DecodeClient(data); err != nil {
					t.Fatal(err)
				}
			})
			if n > tt.max {
				t.Errorf("DecodeClient(%s) allocates %v times, want at most %v", tt.in, n, tt.max)
			}
		})
	}
}
