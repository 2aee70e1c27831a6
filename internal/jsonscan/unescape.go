package jsonscan

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// This file decodes the escapes of JSON strings, for the few names and
// values a caller needs decoded.

// AppendUnescaped appends the string s, the inside of a valid JSON string,
// to b with its escapes decoded as encoding/json decodes them: a lone
// surrogate becomes U+FFFD.
func AppendUnescaped(b, s []byte) []byte {
	for len(s) > 0 {
		j := bytes.IndexByte(s, '\\')
		if j < 0 {
			return append(b, s...)
		}
		b = append(b, s[:j]...)
		s = s[j:]
		if len(s) < 2 {
			return b // cannot happen in a valid string
		}
		switch c := s[1]; c {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := getu4(s)
			if r < 0 {
				return b // cannot happen in a valid string
			}
			s = s[6:]
			if utf16.IsSurrogate(r) {
				if r2 := getu4(s); r2 >= 0 {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						s = s[6:]
						b = utf8.AppendRune(b, dec)
						continue
					}
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
			continue
		default: // '"', '\\', '/'
			b = append(b, c)
		}
		s = s[2:]
	}
	return b
}

// getu4 decodes the \uXXXX escape at the start of s, or returns -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// unescapedIs reports whether the inside of a JSON string with escapes, s,
// decodes to want, which is short. It does not allocate.
func unescapedIs(s []byte, want string) bool {
	// An escape is at most 6 bytes for each byte it decodes to.
	if len(s) > 6*len(want) || len(want) > 16 {
		return false
	}
	var buf [96]byte
	return string(AppendUnescaped(buf[:0], s)) == want
}
