package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// FreeAddr returns a loopback address ("127.0.0.1:PORT") whose port was free
// just now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l := listen(t)
	defer l.Close()
	return l.Addr().String()
}

// listen listens on a free loopback port ("127.0.0.1:0"), or fails the
// test.
func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Buffer collects output, such as a logger's or a process's, while a test
// reads it: its methods may be called concurrently.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// WaitFor waits, as Wait does, until what was written holds s, and returns
// all of it. A log line written after a response, or by another process,
// is waited for this way rather than read after a sleep.
func (b *Buffer) WaitFor(t testing.TB, s string) string {
	t.Helper()
	var out string
	Wait(t, fmt.Sprintf("%q in the output", s), func() error {
		if out = b.String(); !strings.Contains(out, s) {
			return fmt.Errorf("the output so far:\n%s", out)
		}
		return nil
	})
	return out
}

// logTail returns the end of the file at path, for failure messages.
func logTail(path string) string {
	b, _ := os.ReadFile(path)
	return tail(string(bytes.TrimSpace(b)))
}

// tail returns the end of a log, for failure messages.
func tail(s string) string {
	if len(s) > 4000 {
		s = s[len(s)-4000:]
	}
	return s
}

// Clock is a settable clock for tests: pass its Now where code takes a
// clock, and move it with Add or Set. Its methods may be called
// concurrently.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// cachedBinary returns the program a scripts/install-*.sh builds into
// ${XDG_CACHE_HOME:-$HOME/.cache}/signet/dir/name, or $env when that is
// set; "" when the path is not an executable file.
func cachedBinary(env, dir, name string) string {
	p := os.Getenv(env)
	if p == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return ""
			}
			cache = filepath.Join(home, ".cache")
		}
		p = filepath.Join(cache, "signet", dir, name)
	}
	if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return ""
	}
	return p
}
