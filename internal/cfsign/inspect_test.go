package cfsign_test

import (
	"errors"
	"testing"

	"github.com/signet-dev/signet/internal/cfsign"
)

func TestMatchSections(t *testing.T) {
	tests := []struct {
		pattern                   string
		scheme, host, path, query string
		want                      [4]bool
	}{
		{"https://h/videos/*", "https", "h", "/videos/a.ts", "", [4]bool{true, true, true, true}},
		{"https://h/videos/*", "http", "h", "/videos/a.ts", "", [4]bool{false, true, true, true}},
		{"https://h/videos/*", "https", "other", "/videos/a.ts", "", [4]bool{true, false, true, true}},
		{"https://h/videos/*", "https", "h", "/images/a.jpg", "v=1", [4]bool{true, true, false, true}},
		{"https://h/a.jpg", "https", "h", "/a.jpg", "x=1", [4]bool{true, true, true, false}},
		{"http*://media*/a.jpg?size=*", "https", "media.example", "/a.jpg", "size=l", [4]bool{true, true, true, true}},
	}
	for _, tc := range tests {
		p, err := cfsign.ParsePattern(tc.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tc.pattern, err)
		}
		got := p.MatchSections(tc.scheme, tc.host, tc.path, tc.query)
		if got != tc.want {
			t.Errorf("MatchSections(%q, %q, %q, %q) on %q = %v; want %v", tc.scheme, tc.host, tc.path, tc.query, tc.pattern, got, tc.want)
		}
		all := got[0] && got[1] && got[2] && got[3]
		if m := p.Match(tc.scheme, tc.host, tc.path, tc.query); m != all {
			t.Errorf("Match on %q = %v; MatchSections says %v", tc.pattern, m, all)
		}
	}
}

func TestParseExpires(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1767290400", 1767290400, true},
		{"2147483647", 2147483647, true},
		{"1", 1, true},
		{"", 0, false},
		{"0", 0, false},
		{"01767290400", 0, false},
		{"+1767290400", 0, false},
		{"-5", 0, false},
		{"1.7e9", 0, false},
		{"2147483648", 0, false},
		{"1767290400000", 0, false},
	}
	for _, tc := range tests {
		got, err := cfsign.ParseExpires(tc.in)
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("ParseExpires(%q) = %d, %v; want %d, nil", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("ParseExpires(%q) = %d, nil; want an error", tc.in, got)
			continue
		}
		if !errors.Is(err, cfsign.ErrBadExpires) || cfsign.CodeOf(err) != cfsign.MalformedPolicy {
			t.Errorf("ParseExpires(%q) error %v: code %v; want ErrBadExpires, MalformedPolicy", tc.in, err, cfsign.CodeOf(err))
		}
	}
}
