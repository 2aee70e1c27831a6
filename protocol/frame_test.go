package protocol

import (
	"testing"

	"github.com/presence-dev/presence/internal/jsonscan"
)

func TestTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		typ            Type
		client, server bool
	}{
		{TypeHello, true, false},
		{TypeActivity, true, false},
		{TypeExtend, true, false},
		{TypeLogout, true, false},
		{TypePong, true, false},
		{TypeState, false, true},
		{TypeWarn, false, true},
		{TypeExpire, false, true},
		{TypePing, false, true},
		{TypeError, false, true},
		{"", false, false},
		{"Hello", false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			t.Parallel()
			if got := isClientType(tt.typ); got != tt.client {
				t.Errorf("isClientType(%q) = %v", tt.typ, got)
			}
			if got := isServerType(tt.typ); got != tt.server {
				t.Errorf("isServerType(%q) = %v", tt.typ, got)
			}
			// typeOf knows every frame type, and only those.
			m := jsonscan.Member{Kind: jsonscan.KindString, Value: []byte(tt.typ)}
			want := tt.typ
			if !tt.client && !tt.server {
				want = ""
			}
			if got := typeOf(&m); got != want {
				t.Errorf("typeOf(%q) = %q", tt.typ, got)
			}
		})
	}
}

func TestMaxIdleMS(t *testing.T) {
	t.Parallel()
	if MaxIdleMS != 9007199254740991 {
		t.Errorf("MaxIdleMS = %d, want JavaScript's Number.MAX_SAFE_INTEGER", MaxIdleMS)
	}
}
