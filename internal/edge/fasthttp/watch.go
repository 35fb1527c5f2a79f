package fasthttp

import (
	"context"
	"net"
	"time"
)

// A watcher cancels a request's context when the viewer closes its
// connection, from watch until stop: fasthttp, unlike net/http, reads nothing while a handler
// runs, so nothing else would notice. It waits in the runtime's poller for
// the socket to turn readable, then peeks (MSG_PEEK) at it without taking
// a byte: end of stream or an error means the viewer left, and data means
// it sent its next request, so it is still there and the watch ends
// (pipelined bytes stay for fasthttp to read). Methods are called by the
// request's goroutine only.
type watcher struct {
	cancel context.CancelFunc
	conn   net.Conn
	done   chan struct{} // closed when the watching goroutine returns
}

// aLongTimeAgo is a read deadline in the past, which wakes the watching
// goroutine.
var aLongTimeAgo = time.Unix(1, 0)

// stop ends the watch and waits for its goroutine, then arms the read
// deadline with readTimeout (0: none) for what fasthttp still reads of this
// request, such as an unread body it discards; it re-arms the deadline
// itself before the next request.
func (w *watcher) stop(readTimeout time.Duration) {
	w.conn.SetReadDeadline(aLongTimeAgo)
	<-w.done
	var deadline time.Time
	if readTimeout > 0 {
		deadline = time.Now().Add(readTimeout)
	}
	w.conn.SetReadDeadline(deadline)
}
