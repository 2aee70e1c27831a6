package session

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestClaimsLimits(t *testing.T) {
	t.Parallel()
	got := Claims{SID: "a", WarnAfter: 540, ExpireAfter: 600}.Limits()
	if want := (Limits{9 * time.Minute, 10 * time.Minute}); got != want {
		t.Errorf("Limits = %+v, want %+v", got, want)
	}
}

func TestClaimsError(t *testing.T) {
	t.Parallel()
	var err error = &ClaimsError{Field: "sid", Problem: "is missing"}
	if got, want := err.Error(), `session: token invalid: claim "sid" is missing`; got != want {
		t.Errorf("Error = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrTokenInvalid) {
		t.Error("errors.Is(ClaimsError, ErrTokenInvalid) = false")
	}
	if errors.Is(err, ErrTokenTooOld) || errors.Is(err, ErrTokenMissing) {
		t.Error("a ClaimsError is some other sentinel too")
	}
}

func TestClaimsFilled(t *testing.T) {
	t.Parallel()
	def := Limits{WarnAfter: 100 * time.Second, ExpireAfter: 200 * time.Second}
	tests := []struct {
		name   string
		claims Claims
		want   Claims
		field  string
	}{
		{"both defaults", Claims{SID: "a"}, Claims{SID: "a", WarnAfter: 100, ExpireAfter: 200}, ""},
		{"warn given", Claims{SID: "a", WarnAfter: 150}, Claims{SID: "a", WarnAfter: 150, ExpireAfter: 200}, ""},
		{"expire given", Claims{SID: "a", ExpireAfter: 101}, Claims{SID: "a", WarnAfter: 100, ExpireAfter: 101}, ""},
		{"smallest", Claims{SID: "a", WarnAfter: 1, ExpireAfter: 2}, Claims{SID: "a", WarnAfter: 1, ExpireAfter: 2}, ""},
		{"largest", Claims{SID: "a", ExpireAfter: maxLimitSeconds}, Claims{SID: "a", WarnAfter: 100, ExpireAfter: maxLimitSeconds}, ""},
		{"warn at default expire", Claims{SID: "a", WarnAfter: 200}, Claims{}, "warn_after"},
		{"expire at default warn", Claims{SID: "a", ExpireAfter: 100}, Claims{}, "expire_after"},
		{"warn past a year", Claims{SID: "a", WarnAfter: maxLimitSeconds + 1, ExpireAfter: maxLimitSeconds + 2}, Claims{}, "warn_after"},
		{"expire past a year", Claims{SID: "a", ExpireAfter: maxLimitSeconds + 1}, Claims{}, "expire_after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.claims.filled(def)
			var ce *ClaimsError
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("filled: %v", err)
			case tt.field != "" && (!errors.As(err, &ce) || ce.Field != tt.field):
				t.Fatalf("filled: %v, want a ClaimsError for %q", err, tt.field)
			}
			if got != tt.want {
				t.Errorf("filled = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCheckSID(t *testing.T) {
	for sid, ok := range map[string]bool{"abc": true, "a.b_c:d-E9": true, "": false, "a b": false, "é": false, strings.Repeat("a", 128): true, strings.Repeat("a", 129): false} {
		err := CheckSID(sid)
		var ce *ClaimsError
		if ok != (err == nil) || (!ok && (!errors.As(err, &ce) || ce.Field != "sid")) {
			t.Errorf("CheckSID(%q) = %v, want ok %v", sid, err, ok)
		}
	}
}
