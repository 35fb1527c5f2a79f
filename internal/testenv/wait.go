package testenv

import (
	"testing"
	"time"
)

// WaitTimeout bounds every Wait: long enough for a loaded 2-core machine,
// and short enough that a stuck wait fails with its own message rather than
// go test's -timeout panic.
const WaitTimeout = time.Minute

// Wait calls check until it returns nil. Once WaitTimeout has passed, or
// sooner if the test's own deadline (go test -timeout) is near, it fails t
// with what it waited for and check's last error, which should say what
// check saw: Wait bounds a wait and asserts no timing. check runs on the
// caller's goroutine, so it may itself fail t at once (say, when a process
// it waits on has exited). Call Wait from the test's goroutine.
func Wait(t testing.TB, what string, check func() error) {
	t.Helper()
	start := time.Now()
	end := start.Add(WaitTimeout)
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := dt.Deadline(); ok && d.Add(-5*time.Second).Before(end) {
			end = d.Add(-5 * time.Second)
		}
	}
	pause := time.Millisecond
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("waited %v for %s; last saw: %v", time.Since(start).Round(time.Millisecond), what, err)
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}
