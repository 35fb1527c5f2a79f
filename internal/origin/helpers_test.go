package origin_test

import (
	"context"
	"errors"
	"io"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/origin"
)

func TestCheckKey(t *testing.T) {
	valid := []string{
		"a", "a/b", "a b/c+d.txt", "ünï/日本", ".hidden", "...", "a/.b/..c", "a..b", "100%", "q?x#y",
		"~", "a~/b-/c_",
	}
	invalid := []string{
		"", ".", "..", "./a", "a/.", "a/./b", "../a", "a/..", "a/../b", "/a", "a/", "a//b", "//a",
		"a\x00", "\x00", "a\\b", "\\", "..\\a", "\xff", "a/\xc3",
	}
	for _, key := range valid {
		if err := origin.CheckKey(key); err != nil {
			t.Errorf("CheckKey(%q) = %v; want nil", key, err)
		}
	}
	for _, key := range invalid {
		if err := origin.CheckKey(key); !errors.Is(err, origin.ErrInvalidKey) {
			t.Errorf("CheckKey(%q) = %v; want an error matching ErrInvalidKey", key, err)
		}
	}
}

// FuzzCheckKey checks that every key CheckKey accepts is already clean and
// stays below the root, whatever a file system or URL makes of it.
func FuzzCheckKey(f *testing.F) {
	for _, s := range []string{"a/b", "a/../b", "/a", "a\\b", "..", "ü/日", "a//b", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if origin.CheckKey(key) != nil {
			return
		}
		if path.Clean(key) != key {
			t.Errorf("CheckKey accepted %q, which path.Clean makes %q", key, path.Clean(key))
		}
		if key == ".." || strings.HasPrefix(key, "../") || strings.HasPrefix(key, "/") {
			t.Errorf("CheckKey accepted %q, which leaves the root", key)
		}
		if strings.ContainsAny(key, "\x00\\") {
			t.Errorf("CheckKey accepted %q, with a NUL or backslash", key)
		}
	})
}

func TestSpan(t *testing.T) {
	tests := []struct {
		size, off, n int64
		want         int64
		wantErr      bool
	}{
		{10, 0, -1, 10, false},
		{10, 0, 10, 10, false},
		{10, 0, 11, 10, false},
		{10, 3, 4, 4, false},
		{10, 9, 1, 1, false},
		{10, 9, 5, 1, false},
		{10, 10, -1, 0, false},
		{10, 10, 5, 0, false},
		{10, 5, 0, 0, false},
		{0, 0, -1, 0, false},
		{10, 11, 1, 0, true},
		{10, -1, 1, 0, true},
		{0, 1, -1, 0, true},
	}
	for _, tc := range tests {
		got, err := origin.Span(tc.size, tc.off, tc.n)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("Span(%d, %d, %d) = %d, %v; want %d, error %t", tc.size, tc.off, tc.n, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestStrongETag(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"abc"`, `"abc"`},
		{`""`, `""`},
		{`"d41d8cd98f00b204e9800998ecf8427e-2"`, `"d41d8cd98f00b204e9800998ecf8427e-2"`},
		{`W/"abc"`, ""},
		{`abc`, ""},
		{`"abc`, ""},
		{`"a"b"`, ""},
		{`"`, ""},
		{``, ""},
	}
	for _, tc := range tests {
		if got := origin.StrongETag(tc.in); got != tc.want {
			t.Errorf("StrongETag(%s) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// blocked is a body whose Read waits until its context ends.
type blocked struct{ ctx context.Context }

func (b blocked) Read([]byte) (int, error) {
	<-b.ctx.Done()
	return 0, errors.New("connection torn down")
}

func (blocked) Close() error { return nil }

func TestWatchdogTimesOut(t *testing.T) {
	ctx, w := origin.NewWatchdog(t.Context(), time.Millisecond)
	body := w.Body(ctx, blocked{ctx})
	defer body.Close()
	_, err := io.ReadAll(body)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, origin.ErrUnreachable) {
		t.Errorf("reading a stalled body = %v; want an error matching context.DeadlineExceeded and origin.ErrUnreachable", err)
	}
}

func TestWatchdogCancel(t *testing.T) {
	parent, cancel := context.WithCancel(t.Context())
	ctx, w := origin.NewWatchdog(parent, time.Hour)
	body := w.Body(ctx, blocked{ctx})
	defer body.Close()
	cancel()
	_, err := io.ReadAll(body)
	if !errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, origin.ErrUnreachable) {
		t.Errorf("reading after the caller cancelled = %v; want an error matching context.Canceled only", err)
	}
}

func TestWatchdogStop(t *testing.T) {
	for _, d := range []time.Duration{0, time.Hour} {
		ctx, w := origin.NewWatchdog(t.Context(), d)
		if ctx.Err() != nil {
			t.Fatalf("NewWatchdog(%v): context done at once: %v", d, ctx.Err())
		}
		w.Stop()
		if !errors.Is(context.Cause(ctx), context.Canceled) {
			t.Errorf("after Stop (timeout %v): cause %v; want context.Canceled", d, context.Cause(ctx))
		}
	}
}

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in                string
		first, last, size int64
		ok                bool
	}{
		{"bytes 0-99/1234", 0, 99, 1234, true},
		{"bytes 5-5/6", 5, 5, 6, true},
		{"bytes 0-9/*", 0, 9, -1, true},
		{"bytes 0-1234/1234", 0, 0, 0, false}, // past the end
		{"bytes 9-0/10", 0, 0, 0, false},
		{"bytes */1234", 0, 0, 0, false}, // a 416's form
		{"bytes -1-5/10", 0, 0, 0, false},
		{"items 0-9/10", 0, 0, 0, false},
		{"bytes 0-9", 0, 0, 0, false},
		{"bytes 0-9/x", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	} {
		first, last, size, ok := origin.ParseContentRange(tc.in)
		if ok != tc.ok || ok && (first != tc.first || last != tc.last || size != tc.size) {
			t.Errorf("ParseContentRange(%q) = %d, %d, %d, %t; want %d, %d, %d, %t", tc.in, first, last, size, ok, tc.first, tc.last, tc.size, tc.ok)
		}
	}
}
