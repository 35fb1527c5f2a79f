package cfsign

import (
	"encoding/base64"
	"errors"
)

// CloudFront base64 (§3) is standard base64 with padding, then
// '+' -> '-', '=' -> '_' and '/' -> '~'. It is not base64url: padding is kept
// (as '_') and '/' becomes '~'. Every output character is unreserved in URLs
// and legal in cookie values, so encoded values are appended as they are.

// ErrBase64 reports a value that is not valid CloudFront base64.
var ErrBase64 = errors.New("cfsign: invalid CloudFront base64")

// Encode returns the CloudFront base64 encoding of b.
func Encode(b []byte) string {
	return string(AppendEncode(nil, b))
}

// AppendEncode appends the CloudFront base64 encoding of src to dst.
func AppendEncode(dst, src []byte) []byte {
	start := len(dst)
	dst = base64.StdEncoding.AppendEncode(dst, src)
	for i := start; i < len(dst); i++ {
		switch dst[i] {
		case '+':
			dst[i] = '-'
		case '=':
			dst[i] = '_'
		case '/':
			dst[i] = '~'
		}
	}
	return dst
}

// Decode decodes a CloudFront base64 value as received in a query string or
// cookie. (signet, §3 and §17 #1, #2):
//  1. %XX escapes are decoded (only those; '+' stays '+'), which tolerates a
//     '~' sent as %7E by form encoders.
//  2. Any byte outside the 65-character alphabet A-Z a-z 0-9 - _ ~ is
//     refused, so standard base64 ("+/=") and base64url output fail here
//     instead of decoding to something else.
//  3. The mapping is reversed and decoded strictly: padding is required,
//     trailing data and non-zero trailing bits are refused.
func Decode(s string) ([]byte, error) {
	return AppendDecode(nil, s)
}

// AppendDecode is Decode appending to dst. It allocates only to grow dst,
// or for a value over 1 KiB.
func AppendDecode(dst []byte, s string) ([]byte, error) {
	if s == "" {
		return dst, ErrBase64
	}
	// Map to standard base64 in a scratch buffer. Values are short (at most
	// a few KiB), so a stack buffer usually suffices.
	var stack [1024]byte
	buf := stack[:]
	if len(s) > len(stack) {
		buf = make([]byte, len(s))
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) {
				return dst, ErrBase64
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return dst, ErrBase64
			}
			c = hi<<4 | lo
			i += 2
		}
		std := toStd[c]
		if std == 0 {
			return dst, ErrBase64
		}
		buf[n] = std
		n++
	}
	out, err := strictStd.AppendDecode(dst, buf[:n])
	if err != nil {
		return dst, ErrBase64
	}
	return out, nil
}

var strictStd = base64.StdEncoding.Strict()

// toStd maps the 65 bytes of the CloudFront alphabet to standard base64
// ('-' to '+', '_' to '=', '~' to '/', letters and digits to themselves)
// and every other byte to 0.
var toStd = func() (t [256]byte) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c], t[c+'a'-'A'] = byte(c), byte(c+'a'-'A')
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c)
	}
	t['-'], t['_'], t['~'] = '+', '=', '/'
	return t
}()

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
