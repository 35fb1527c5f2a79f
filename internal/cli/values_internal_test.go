package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// splitURLBefore is splitURL as it was before it called cfsign.SplitURL:
// the reference TestSplitURL holds it to.
func splitURLBefore(raw string) (scheme, host, target string, err error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "", "", "", errors.New("URL must be absolute, starting with https:// or http://")
	}
	scheme = strings.ToLower(scheme)
	if scheme != "https" && scheme != "http" {
		return "", "", "", fmt.Errorf("URL scheme %q is not http or https", scheme)
	}
	rest, _, _ = strings.Cut(rest, "#")
	host, target = rest, "/"
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		host, target = rest[:i], rest[i:]
		if target[0] == '?' {
			target = "/" + target
		}
	}
	switch {
	case host == "":
		return "", "", "", errors.New("URL has no host")
	case strings.Contains(host, "@"):
		return "", "", "", errors.New("URL has user info (user@host), which browsers never send; remove it")
	}
	return scheme, host, target, nil
}

// TestSplitURL: splitURL gives what it gave before it shared
// cfsign.SplitURL, for every URL built from pieces around the characters
// that end a host ('/', '?', '#').
func TestSplitURL(t *testing.T) {
	schemes := []string{"https://", "HTTP://", "ftp://", "https:/", ""}
	hosts := []string{"h", "", "u@h", "[::1]:8443", "h:8443"}
	tails := []string{"", "/", "/a?b=1", "?b=1", "#f", "#f/x", "?q#f", "/p#f?x", "/a://b", "//x", "?", "#"}
	n := 0
	for _, s := range schemes {
		for _, h := range hosts {
			for _, tail := range tails {
				raw := s + h + tail
				gs, gh, gt, gerr := splitURL(raw)
				ws, wh, wt, werr := splitURLBefore(raw)
				if gs != ws || gh != wh || gt != wt || fmt.Sprint(gerr) != fmt.Sprint(werr) {
					t.Errorf("splitURL(%q) = %q, %q, %q, %v; want %q, %q, %q, %v", raw, gs, gh, gt, gerr, ws, wh, wt, werr)
				}
				n++
			}
		}
	}
	if n < 300 {
		t.Fatalf("%d cases; want at least 300", n)
	}
}
