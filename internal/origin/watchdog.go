package origin

import (
	"context"
	"fmt"
	"io"
	"time"
)

// A Watchdog bounds how long a network origin may keep the edge waiting: it
// cancels its context once it has stayed armed for its timeout. Armed while
// a request waits for its response headers and during each Read of the
// body, but not between Reads, it times out a stalled origin without
// limiting how long a slow viewer may take to download a large object (like
// CloudFront's origin response timeout). Its methods are safe for
// concurrent use.
type Watchdog struct {
	d      time.Duration
	timer  *time.Timer // nil when d <= 0
	cancel context.CancelCauseFunc
}

// NewWatchdog returns a context derived from ctx and an armed Watchdog that
// cancels it when armed for d; the context's cause then matches
// context.DeadlineExceeded and ErrUnreachable. A d <= 0 never times out.
// Call Stop, or Close the Body, when done.
func NewWatchdog(ctx context.Context, d time.Duration) (context.Context, *Watchdog) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &Watchdog{d: d, cancel: cancel}
	if d > 0 {
		w.timer = time.AfterFunc(d, func() { cancel(timeout(d)) })
	}
	return ctx, w
}

// timeout is why a Watchdog cancels its context: no response for so long.
type timeout time.Duration

func (d timeout) Error() string {
	return fmt.Sprintf("origin: no response for %v", time.Duration(d))
}

// Is makes a timeout match context.DeadlineExceeded (so the edge answers
// 504) and ErrUnreachable.
func (timeout) Is(target error) bool {
	return target == context.DeadlineExceeded || target == ErrUnreachable
}

// Arm starts the timeout again from now.
func (w *Watchdog) Arm() {
	if w.timer != nil {
		w.timer.Reset(w.d)
	}
}

// Disarm pauses the timeout until the next Arm.
func (w *Watchdog) Disarm() {
	if w.timer != nil {
		w.timer.Stop()
	}
}

// Stop disarms the watchdog for good and cancels its context, which ends
// any request still using it. Read why a request failed before Stop:
// after it, the context reports context.Canceled whatever happened.
func (w *Watchdog) Stop() {
	w.Disarm()
	w.cancel(context.Canceled)
}

// Body wraps the body of a response that arrived under ctx, the context
// NewWatchdog returned: each Read is armed, a Read that fails because ctx
// ended reports context.Cause(ctx) (the timeout, or the caller's
// cancellation), and Close closes rc and stops the watchdog. Body disarms
// the watchdog, ending the wait for response headers.
func (w *Watchdog) Body(ctx context.Context, rc io.ReadCloser) io.ReadCloser {
	w.Disarm()
	return &watchedBody{ctx: ctx, rc: rc, w: w}
}

type watchedBody struct {
	ctx context.Context
	rc  io.ReadCloser
	w   *Watchdog
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.w.Arm()
	n, err := b.rc.Read(p)
	b.w.Disarm()
	if err != nil && err != io.EOF && b.ctx.Err() != nil {
		err = context.Cause(b.ctx)
	}
	return n, err
}

func (b *watchedBody) Close() error {
	err := b.rc.Close()
	b.w.Stop()
	return err
}
