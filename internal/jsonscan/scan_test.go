package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// validObject reports whether data is what ScanObject accepts: valid UTF-8
// and one valid JSON object, by encoding/json's judgement.
func validObject(data []byte) bool {
	if !utf8.Valid(data) || !json.Valid(data) {
		return false
	}
	i := skipSpace(data, 0)
	return i < len(data) && data[i] == '{'
}

// scanAll scans every Member of data's object.
func scanAll(data []byte) *Error {
	s, err := ScanObject(data)
	if err != nil {
		return err
	}
	for {
		_, ok, err := s.Next()
		if err != nil || !ok {
			return err
		}
	}
}

func TestScanMatchesStdlib(t *testing.T) {
	t.Parallel()
	docs := []string{
		`{}`, ` {} `, `{"a":1}`, `{"a":-0.5e-7,"b":1E+2,"c":0,"d":-0}`,
		`{"a":true,"b":false,"c":null}`, `{"a":[],"b":{},"c":[[],{}],"d":[1,"x",{"y":[null]}]}`,
		`{"a":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00"}`, `{"":""}`,
		`{"a":1,}`, `{"a":[1,]}`, `{"a":{"b"}}`, `{"a":{"b":}}`, `{"a":{,}}`, `{"a":[,1]}`,
		`{"a":{"b":1 "c":2}}`, `{"a":[1 2]}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`,
		`{"a":1e+}`, `{"a":-}`, `{"a":--1}`, `{"a":tru}`, `{"a":True}`, `{"a":nulll}`,
		`{"a":"\u00"}`, `{"a":"\'"}`, "{\"a\":\"\t\"}", `{"a":[}`, `{"a":{]}`, `{"a":[1}`,
		`{"a":{"b":1]}`, `{"a":1}}`, `{"a":1}]`, `{"a":1} 1`, `{"a":1}` + "\n\t\r ",
		`{"a":1` + "\v}", `{"a" : [ 1 , { "b" : [ ] } ] }`, `{"a":[[[[[[]]]]]]}`,
		`[]`, `1`, `"x"`, `null`, ``, `{`, `}`, `{"a"`, `{"a":`, `{"a":"`, `{"a":[`, `{"a":{`,
		`{"a":{"b":"`, "{\"a\":\"\xff\"}", "{\"\xe2\x80\":1}",
		`{"a":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`,
		`{"a":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`,
		`{"a":` + strings.Repeat(`{"b":`, MaxDepth-1) + `1` + strings.Repeat("}", MaxDepth-1) + `}`,
		`{"a":` + strings.Repeat(`{"b":`, MaxDepth) + `1` + strings.Repeat("}", MaxDepth) + `}`,
	}
	for _, doc := range docs {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			data := []byte(doc)
			err := scanAll(data)
			if want := validObject(data); (err == nil) != want {
				t.Errorf("scan(%.60q) = %v, want valid %v", doc, err, want)
			}
		})
	}
}

func TestAppendUnescaped(t *testing.T) {
	t.Parallel()
	for _, lit := range []string{
		`""`, `"plain"`, `"\"\\\/\b\f\n\r\t"`, `"\u0041\u00e9\u65e5\uD83D\uDE00"`,
		`"\ud800"`, `"\udc00"`, `"\ud800\u0041"`, `"\ud800\ud800"`, `"\ud800\udc00\udc00"`,
		`"a\ud83dx"`, `"café \u2028"`, `"\ud83d\ude00\ud83d"`,
	} {
		t.Run(lit, func(t *testing.T) {
			t.Parallel()
			var want string
			if err := json.Unmarshal([]byte(lit), &want); err != nil {
				t.Fatal(err)
			}
			got := string(AppendUnescaped(nil, []byte(lit[1:len(lit)-1])))
			if got != want {
				t.Errorf("AppendUnescaped(%s) = %q, want %q", lit, got, want)
			}
		})
	}
}

func TestUnescapedIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s, want string
		ok      bool
	}{
		{`typ\u0065`, "type", true},
		{`\u0074\u0079\u0070\u0065`, "type", true},
		{`typ\u0045`, "type", false},
		{`type\u0000`, "type", false},
		{strings.Repeat(`\u0074`, 100), "type", false},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			t.Parallel()
			if got := unescapedIs([]byte(tt.s), tt.want); got != tt.ok {
				t.Errorf("unescapedIs(%s, %s) = %v", tt.s, tt.want, got)
			}
		})
	}
}
