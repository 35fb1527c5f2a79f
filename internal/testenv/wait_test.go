package testenv_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/testenv"
)

func TestWait(t *testing.T) {
	calls := 0
	testenv.Wait(t, "the third call", func() error {
		if calls++; calls < 3 {
			return fmt.Errorf("call %d", calls)
		}
		return nil
	})
	if calls != 3 {
		t.Errorf("check called %d times; want 3 (until it passed)", calls)
	}
}

// fatalTB records Fatalf and ends the call, as testing.T does, by panicking
// with itself; its test deadline is now.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f)
}

func (f *fatalTB) Deadline() (time.Time, bool) { return time.Now(), true }

// TestWaitFails: a test whose deadline is near gets Wait's failure at once,
// not go test's timeout, and the failure says what it waited for and what
// it saw last.
func TestWaitFails(t *testing.T) {
	f := &fatalTB{TB: t}
	calls := 0
	func() {
		defer func() {
			if r := recover(); r != f {
				panic(r)
			}
		}()
		testenv.Wait(f, "the answer", func() error {
			calls++
			return fmt.Errorf("saw %d", 41+calls)
		})
		t.Error("Wait returned though check never passed")
	}()
	if calls != 1 {
		t.Errorf("check called %d times; want 1 (the test's deadline had come)", calls)
	}
	if !strings.Contains(f.msg, "the answer") || !strings.Contains(f.msg, "saw 42") {
		t.Errorf("Wait failed with %q; want what it waited for and \"saw 42\"", f.msg)
	}
}

func TestBufferWaitFor(t *testing.T) {
	var b testenv.Buffer
	var written atomic.Bool
	go func() {
		fmt.Fprintln(&b, "starting")
		time.Sleep(10 * time.Millisecond) // a log line that comes later
		written.Store(true)
		fmt.Fprintln(&b, "ready")
	}()
	out := b.WaitFor(t, "ready\n")
	if !written.Load() || out != "starting\nready\n" {
		t.Errorf("WaitFor returned %q; want the output once it held \"ready\"", out)
	}

	f := &fatalTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != f {
				panic(r)
			}
		}()
		b.WaitFor(f, "never")
	}()
	if !strings.Contains(f.msg, `"never"`) || !strings.Contains(f.msg, "starting\nready") {
		t.Errorf("WaitFor failed with %q; want the text it waited for and the output so far", f.msg)
	}
}
