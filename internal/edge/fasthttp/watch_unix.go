//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package fasthttp

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"time"
)

// watch starts watching c, calling cancel if the viewer leaves, or returns
// nil when c is not a socket it can peek at. It clears c's read deadline:
// the request has been read, and a deadline would end the watch mid-body.
// A connection already closed (by Close, between the handler and the
// body) gets cancel at once: no watch would see it go.
func watch(c net.Conn, cancel context.CancelFunc) *watcher {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil || c.SetReadDeadline(time.Time{}) != nil {
		cancel()
		return nil
	}
	w := &watcher{cancel: cancel, conn: c, done: make(chan struct{})}
	go w.run(raw)
	return w
}

// run waits for c to turn readable and cancels ctx if the viewer left. A
// deadline error is stop's doing; any other error (the connection was
// closed under it, by Close) also ends the request.
func (w *watcher) run(raw syscall.RawConn) {
	defer close(w.done)
	var buf [1]byte
	gone := false
	err := raw.Read(func(fd uintptr) bool {
		for {
			n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK)
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				return false // nothing yet: wait in the poller
			case err != nil, n == 0:
				gone = true // reset, or end of stream
			}
			return true
		}
	})
	if gone || err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		w.cancel()
	}
}
