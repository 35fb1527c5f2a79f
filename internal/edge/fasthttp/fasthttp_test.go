package fasthttp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/edgetest"
	"github.com/signet-dev/signet/internal/edge/fasthttp"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/testenv"
)

// start serves e with opts on a loopback port until the test ends and
// returns the base URL and the server.
func start(t *testing.T, e *edge.Edge, opts fasthttp.Options) (string, *fasthttp.Server) {
	t.Helper()
	srv, err := fasthttp.New(e, opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve = %v; want http.ErrServerClosed", err)
		}
	})
	return "http://" + ln.Addr().String(), srv
}

func TestSuite(t *testing.T) {
	edgetest.Run(t, edgetest.FastHTTP, func(t *testing.T, e *edge.Edge) string {
		base, _ := start(t, e, fasthttp.Options{})
		return base
	})
}

func TestAccessSuite(t *testing.T) {
	edgetest.RunAccess(t, func(t *testing.T, e *edge.Edge, o edgetest.AccessOptions) (string, func()) {
		base, srv := start(t, e, fasthttp.Options{TrustedProxies: o.TrustedProxies, Logger: o.Logger, Observer: o.Observer})
		return base, func() {
			// Shutdown waits for the requests in flight, which log and
			// observe before their connection is done.
			if err := srv.Shutdown(context.WithoutCancel(t.Context())); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		}
	})
}

func TestNew(t *testing.T) {
	e := edgetest.DocEdge(t, edgetest.NewKeys(t))
	for _, tc := range []struct {
		name string
		e    *edge.Edge
		opts fasthttp.Options
		want string // "" for success
	}{
		{"zero", e, fasthttp.Options{}, ""},
		{"no edge", nil, fasthttp.Options{}, "no edge"},
		{"negative", e, fasthttp.Options{IdleTimeout: -time.Second}, "idle timeout -1s is negative"},
		{"small header", e, fasthttp.Options{MaxHeaderBytes: 512}, "max header bytes 512 is under 1024"},
	} {
		_, err := fasthttp.New(tc.e, tc.opts)
		if got := fmt.Sprint(err); tc.want == "" && err != nil || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: New = %v; want %q", tc.name, err, tc.want)
		}
	}
}

// TestRefused checks what fasthttp answers before the edge sees a request:
// a short text, and no access record.
func TestRefused(t *testing.T) {
	var logs testenv.Buffer
	base, _ := start(t, edgetest.DocEdge(t, edgetest.NewKeys(t)), fasthttp.Options{
		MaxHeaderBytes: 4096,
		Logger:         slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	tests := []struct {
		name   string
		target string
		hdr    []string
		status int
	}{
		{"query only", "?Signature=secret", nil, 400},
		{"header over the limit", "/doc.txt", []string{"X-Big", strings.Repeat("b", 4096+4096)}, 431},
		{"within the slack", "/doc.txt", []string{"X-Big", strings.Repeat("b", 4096+3000)}, 200},
	}
	for _, tc := range tests {
		got := edgetest.Do(t, base, "GET", tc.target, tc.hdr...)
		want := http.StatusText(tc.status) + "\n"
		if tc.status == 200 {
			want = string(edgetest.Doc)
		}
		if got.Status != tc.status || string(got.Body) != want {
			t.Errorf("%s: GET = %d %q; want %d %q", tc.name, got.Status, got.Body, tc.status, want)
		}
		if tc.status != 200 && (got.Header.Get("Content-Type") != "text/plain; charset=utf-8" || got.Header.Get("Server") != "") {
			t.Errorf("%s: header %v; want text/plain and no Server", tc.name, got.Header)
		}
	}
	// The 200's record is written once its body is out: wait for it.
	if n := strings.Count(logs.WaitFor(t, "\n"), "\n"); n != 1 {
		t.Errorf("access log has %d lines; want 1, the 200:\n%s", n, logs.String())
	}
}

// gate serves "gate.bin", size bytes of 'g', whose reads block until
// open is closed or their context ends, and says why a read ended.
type gate struct {
	size   int64
	opened chan struct{} // receives once per Open
	open   chan struct{} // closed to let reads through
	ended  chan error    // receives the context error of a blocked read
}

func newGate(size int64) *gate {
	return &gate{size: size, opened: make(chan struct{}, 8), open: make(chan struct{}), ended: make(chan error, 8)}
}

func (g *gate) Stat(ctx context.Context, key string) (origin.Info, error) {
	if key != "gate.bin" {
		return origin.Info{}, fs.ErrNotExist
	}
	return origin.Info{Key: key, Size: g.size, ModTime: edgetest.ModTime, ETag: `"g"`}, nil
}

// Open returns a reader whose first Read waits for the gate, as an origin
// whose first byte is slow: Decide opens the body's read, and the wait
// happens once the headers are out, under the watch.
func (g *gate) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	g.opened <- struct{}{}
	if n < 0 {
		n = g.size - off
	}
	return &gated{g: g, ctx: ctx, r: io.LimitReader(repeat('g'), n)}, nil
}

type gated struct {
	g      *gate
	ctx    context.Context
	r      io.Reader
	passed bool
}

func (r *gated) Read(p []byte) (int, error) {
	if !r.passed {
		select {
		case <-r.g.open:
			r.passed = true
		case <-r.ctx.Done():
			r.g.ended <- r.ctx.Err()
			return 0, r.ctx.Err()
		}
	}
	return r.r.Read(p)
}

func (r *gated) Close() error { return nil }

type repeat byte

func (r repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func gateEdge(t *testing.T, g *gate) *edge.Edge {
	t.Helper()
	e, err := edge.New(edge.Config{Distributions: []edge.Distribution{{
		Name: "gate", Origin: g, Behaviors: []edge.Behavior{{PathPattern: "*"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// waitFor returns what ch receives; the deadline only keeps a broken
// adapter from hanging the run.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(30 * time.Second):
		t.Fatalf("%s never happened", what)
	}
	panic("unreachable")
}

// TestPipelined sends a second request behind the first, while the first
// body streams: the watch must leave its bytes for fasthttp, and both get
// their answers in order on the one connection.
func TestPipelined(t *testing.T) {
	g := newGate(4 << 20)
	base, _ := start(t, gateEdge(t, g), fasthttp.Options{ReadTimeout: time.Minute})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET /gate.bin HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	waitFor(t, g.opened, "the first Open")
	if _, err := io.WriteString(conn, req); err != nil { // arrives while the first body waits
		t.Fatal(err)
	}
	close(g.open)
	br := bufio.NewReader(conn)
	for i := range 2 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || n != g.size {
			t.Errorf("response %d = %d, %d bytes, %v; want 200, %d bytes", i, resp.StatusCode, n, err, g.size)
		}
	}
	select {
	case err := <-g.ended:
		t.Errorf("a body was cancelled (%v) though its viewer stayed", err)
	default:
	}
}

// TestDisconnectAfterReadTimeout leaves a body waiting longer than the read
// timeout, then closes the connection: the watch must still see it go, and
// the timeout must not end the response.
func TestDisconnectAfterReadTimeout(t *testing.T) {
	g := newGate(1 << 20)
	const readTimeout = 50 * time.Millisecond
	base, _ := start(t, gateEdge(t, g), fasthttp.Options{ReadTimeout: readTimeout})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, "GET /gate.bin HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, g.opened, "Open")
	time.Sleep(4 * readTimeout) // the read deadline would have passed by now
	conn.Close()
	if err := waitFor(t, g.ended, "the cancellation"); err != context.Canceled {
		t.Errorf("origin read ended with %v; want context.Canceled", err)
	}
}

// TestShutdown checks the lifecycle server.Run relies on: Shutdown lets a
// body in flight finish and Serve return http.ErrServerClosed; when its
// context ends first it says so, and Close then cancels the body.
func TestShutdown(t *testing.T) {
	get := func(base string) <-chan error {
		done := make(chan error, 1)
		go func() {
			resp, err := http.Get(base + "/gate.bin")
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			done <- err
		}()
		return done
	}
	t.Run("graceful", func(t *testing.T) {
		g := newGate(1 << 20)
		base, srv := start(t, gateEdge(t, g), fasthttp.Options{})
		done := get(base)
		waitFor(t, g.opened, "Open")
		shut := make(chan error, 1)
		go func() { shut <- srv.Shutdown(context.WithoutCancel(t.Context())) }()
		close(g.open)
		if err := waitFor(t, done, "the download"); err != nil {
			t.Errorf("download during Shutdown: %v", err)
		}
		if err := waitFor(t, shut, "Shutdown"); err != nil {
			t.Errorf("Shutdown = %v; want nil", err)
		}
		if _, err := http.Get(base + "/gate.bin"); err == nil {
			t.Errorf("GET after Shutdown succeeded; want the listener closed")
		}
	})
	t.Run("deadline then close", func(t *testing.T) {
		g := newGate(1 << 20)
		base, srv := start(t, gateEdge(t, g), fasthttp.Options{})
		done := get(base)
		waitFor(t, g.opened, "Open")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := srv.Shutdown(ctx); err != context.Canceled {
			t.Errorf("Shutdown with an ended context = %v; want context.Canceled", err)
		}
		srv.Close()
		if err := waitFor(t, g.ended, "the cancellation"); err != context.Canceled {
			t.Errorf("origin read ended with %v; want context.Canceled", err)
		}
		if err := waitFor(t, done, "the download"); err == nil {
			t.Errorf("download cut by Close completed cleanly")
		}
	})
}
