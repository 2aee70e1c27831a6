package protocol

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestErrorError(t *testing.T) {
	t.Parallel()
	e := &Error{Code: CodeUnknownField, Message: `unknown field "x" in extend frame`}
	if got, want := e.Error(), `protocol: unknown_field: unknown field "x" in extend frame`; got != want {
		t.Errorf("Error() = %s, want %s", got, want)
	}
}

func TestErrorAs(t *testing.T) {
	t.Parallel()
	_, err := DecodeClient([]byte(`{"type":"nap"}`))
	wrapped := fmt.Errorf("read frame: %w", err)
	var e *Error
	if !errors.As(wrapped, &e) || e.Code != CodeUnknownType {
		t.Fatalf("errors.As(%v) = %v, %+v", wrapped, e != nil, e)
	}
}

func TestEcho(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"idle", `"idle"`},
		{"a\x00\"b", `"a\x00\"b"`},
		{strings.Repeat("x", maxEcho), `"` + strings.Repeat("x", maxEcho) + `"`},
		{strings.Repeat("x", maxEcho+1), `"` + strings.Repeat("x", maxEcho) + `"...`},
		// A rune that would straddle the cut is left out whole.
		{strings.Repeat("x", maxEcho-1) + "é", `"` + strings.Repeat("x", maxEcho-1) + `"...`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := echo([]byte(tt.in)); got != tt.want {
				t.Errorf("echo(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}
