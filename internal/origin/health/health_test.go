package health_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/health"
	httporigin "github.com/signet-dev/signet/internal/origin/http"
	"github.com/signet-dev/signet/internal/origin/origintest"
	"github.com/signet-dev/signet/internal/origin/s3"
	"github.com/signet-dev/signet/internal/testenv"
)

// upstream is an HTTP origin behind an outage proxy: it serves every key
// but "missing", "broken" (a 500) and "slow" (never answers), with an ETag.
func upstream(t *testing.T) *testenv.OutageProxy {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/broken":
			http.Error(w, "broken", http.StatusInternalServerError)
		case "/slow":
			<-r.Context().Done()
		default:
			w.Header().Set("ETag", `"v1"`)
			http.ServeContent(w, r, "", time.Time{}, strings.NewReader("body of "+r.URL.Path))
		}
	}))
	t.Cleanup(srv.Close)
	return testenv.NewOutageProxy(t, srv.URL)
}

// counting counts the calls that reach a real origin, by key. Safe for
// concurrent use.
type counting struct {
	origin.Origin
	mu    sync.Mutex
	calls map[string]int
}

func (c *counting) count(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[key]++
}

func (c *counting) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[key]
}

func (c *counting) Stat(ctx context.Context, key string) (origin.Info, error) {
	c.count(key)
	return c.Origin.Stat(ctx, key)
}

func (c *counting) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	c.count(info.Key)
	return c.Origin.Open(ctx, info, off, n)
}

// setup returns a health check over an HTTP origin reached through p with
// timeout, the origin's call counts, and the check's log.
func setup(t *testing.T, p *testenv.OutageProxy, timeout, probe time.Duration) (*health.Origin, *counting, *testenv.Buffer) {
	t.Helper()
	o, err := httporigin.New(httporigin.Config{URL: "http://" + p.Addr, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	c := &counting{Origin: o, calls: map[string]int{}}
	var log testenv.Buffer
	h, err := health.New(c, health.Config{Probe: probe}, slog.New(slog.NewJSONHandler(&log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, c, &log
}

// waitUp polls h until Up reports want.
func waitUp(t *testing.T, h *health.Origin, want bool) {
	t.Helper()
	testenv.Wait(t, fmt.Sprintf("Up() = %t", want), func() error {
		if up := h.Up(); up != want {
			return fmt.Errorf("Up() = %t", up)
		}
		return nil
	})
}

// TestRefused: one refused call marks the origin down; calls for other
// keys then fail with the refusal without reaching the origin, only the
// probe does (for the key that failed); when the origin listens again the
// probe marks it up, and calls reach it again.
func TestRefused(t *testing.T) {
	p := upstream(t)
	h, c, log := setup(t, p, 10*time.Second, 10*time.Millisecond)
	if _, err := h.Stat(t.Context(), "a"); err != nil || !h.Up() {
		t.Fatalf("Stat with the origin up = %v, Up() = %t; want no error, up", err, h.Up())
	}
	p.Set(t, testenv.OriginRefused)
	if _, err := h.Stat(t.Context(), "a"); !errors.Is(err, origin.ErrUnreachable) || errors.Is(err, origin.ErrDown) {
		t.Fatalf("first Stat with the origin refusing = %v; want the origin's error, matching origin.ErrUnreachable", err)
	}
	if h.Up() {
		t.Errorf("Up() after a refused call = true; want false")
	}
	for range 20 {
		_, err := h.Stat(t.Context(), "b")
		if !errors.Is(err, origin.ErrDown) || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("Stat while down = %v; want an error matching origin.ErrDown and ECONNREFUSED", err)
		}
		_, err = h.Open(t.Context(), origin.Info{Key: "c", Size: 9, ETag: `"v1"`}, 0, -1)
		if !errors.Is(err, origin.ErrDown) || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("Open while down = %v; want an error matching origin.ErrDown and ECONNREFUSED", err)
		}
	}
	if n, m := c.get("b"), c.get("c"); n != 0 || m != 0 {
		t.Errorf("while down the origin was asked for b %d times, for c %d times; want 0 (only the probe, for a)", n, m)
	}
	// The probe asks for the key that failed, again and again, and the
	// origin stays down while it refuses.
	probes := c.get("a")
	testenv.Wait(t, "3 probes (one every 10ms)", func() error {
		if n := c.get("a") - probes; n < 3 {
			return fmt.Errorf("the origin was asked for a %d times", n)
		}
		return nil
	})
	if _, err := h.Stat(t.Context(), "b"); h.Up() || !errors.Is(err, origin.ErrDown) {
		t.Errorf("after 3 refused probes: Up() = %t, Stat = %v; want down, an error matching origin.ErrDown", h.Up(), err)
	}

	p.Set(t, testenv.OriginUp)
	waitUp(t, h, true)
	if _, err := h.Stat(t.Context(), "b"); err != nil || c.get("b") != 1 {
		t.Errorf("Stat once up again = %v, origin asked %d times; want no error, asked once", err, c.get("b"))
	}
	// One line per transition, not one per call.
	log.WaitFor(t, `"msg":"origin up"`)
	if down, up := strings.Count(log.String(), `"msg":"origin down"`), strings.Count(log.String(), `"msg":"origin up"`); down != 1 || up != 1 {
		t.Errorf("log has %d \"origin down\" and %d \"origin up\" lines; want 1 and 1:\n%s", down, up, log)
	}
}

// TestBlackholed: a call that times out marks the origin down, and the
// calls that follow fail as a timeout does (the edge answers 504), without
// reaching the origin, counted at a real server.
func TestBlackholed(t *testing.T) {
	p := upstream(t)
	h, _, _ := setup(t, p, 100*time.Millisecond, time.Hour)
	p.Set(t, testenv.OriginBlackholed)
	if _, err := h.Stat(t.Context(), "a"); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, origin.ErrUnreachable) {
		t.Fatalf("Stat with the origin blackholed = %v; want an error matching context.DeadlineExceeded and origin.ErrUnreachable", err)
	}
	for range 20 {
		_, err := h.Stat(t.Context(), "b")
		if !errors.Is(err, origin.ErrDown) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Stat while down = %v; want an error matching origin.ErrDown and context.DeadlineExceeded", err)
		}
	}
	if n := p.Requests("/b"); n != 0 {
		t.Errorf("while down %d requests for /b reached the origin; want 0", n)
	}
}

// TestSlowKey: one key that never answers, while the origin answers
// others, does not take the origin down.
func TestSlowKey(t *testing.T) {
	p := upstream(t)
	h, _, _ := setup(t, p, 2*time.Second, time.Hour)
	slow := make(chan error, 1)
	go func() {
		_, err := h.Stat(t.Context(), "slow")
		slow <- err
	}()
	testenv.Wait(t, "the request for /slow to reach the origin", func() error {
		if n := p.Requests("/slow"); n != 1 {
			return fmt.Errorf("%d requests for /slow", n)
		}
		return nil
	})
	if _, err := h.Stat(t.Context(), "a"); err != nil {
		t.Fatalf("Stat(a) while slow waits = %v; want no error", err)
	}
	if err := <-slow; !errors.Is(err, origin.ErrUnreachable) {
		t.Fatalf("Stat(slow) = %v; want a timeout matching origin.ErrUnreachable", err)
	}
	if !h.Up() {
		t.Errorf("Up() = false after one key timed out while another answered; want true")
	}
	if _, err := h.Stat(t.Context(), "b"); err != nil {
		t.Errorf("Stat(b) after slow timed out = %v; want no error", err)
	}
}

// TestSlowKeyAlone: a key that times out with no other traffic marks the
// origin down, and the probe asks for the last key the origin answered,
// not the one that hangs, so the origin is up again within a probe.
func TestSlowKeyAlone(t *testing.T) {
	p := upstream(t)
	h, c, _ := setup(t, p, 200*time.Millisecond, 10*time.Millisecond)
	if _, err := h.Stat(t.Context(), "a"); err != nil {
		t.Fatalf("Stat(a) = %v; want no error", err)
	}
	if _, err := h.Stat(t.Context(), "slow"); !errors.Is(err, origin.ErrUnreachable) {
		t.Fatalf("Stat(slow) = %v; want a timeout matching origin.ErrUnreachable", err)
	}
	waitUp(t, h, true)
	if n := c.get("slow"); n != 1 {
		t.Errorf("the origin was asked for slow %d times; want 1 (the probe asks for a)", n)
	}
	if n := c.get("a"); n < 2 {
		t.Errorf("the origin was asked for a %d times; want the call and at least one probe", n)
	}
}

// TestAnswers: an origin that answers, be it with a 404 or a 500, is up,
// and a caller that cancels or whose deadline passes says nothing of it.
func TestAnswers(t *testing.T) {
	p := upstream(t)
	h, c, _ := setup(t, p, time.Hour, time.Hour)
	for _, key := range []string{"missing", "broken", "missing", "broken"} {
		if _, err := h.Stat(t.Context(), key); err == nil {
			t.Errorf("Stat(%s) succeeded; want the origin's error", key)
		}
	}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := h.Stat(cancelled, "a"); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat with a cancelled context = %v; want context.Canceled", err)
	}
	p.Set(t, testenv.OriginBlackholed)
	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Stat(short, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stat past the caller's deadline = %v; want context.DeadlineExceeded", err)
	}
	if !h.Up() {
		t.Errorf("Up() = false after answers, a cancellation and a caller's deadline; want true")
	}
	p.Set(t, testenv.OriginUp)
	if _, err := h.Stat(t.Context(), "broken"); err == nil || c.get("broken") != 3 {
		t.Errorf("Stat(broken) = %v after %d calls reached the origin; want its error, the 3rd call to reach it", err, c.get("broken"))
	}
}

// TestGet: Get over an origin that is no origin.Getter is its Stat, with
// no reader, counted as one call; over an S3 origin it is S3's Get, checked
// as Stat is. The check never presigns: the server hands the S3 origin
// itself to the behaviors that redirect.
func TestGet(t *testing.T) {
	p := upstream(t)
	h, c, _ := setup(t, p, time.Hour, time.Hour)
	info, rc, err := h.Get(t.Context(), "a", 10)
	if err != nil || rc != nil || info.Size != int64(len("body of /a")) || c.get("a") != 1 {
		t.Errorf("Get over an HTTP origin = %+v, reader %v, %v after %d calls; want its Stat, no reader, 1 call", info, rc, err, c.get("a"))
	}
	if _, ok := any(h).(origin.Presigner); ok {
		t.Errorf("a health check is an origin.Presigner; want not")
	}

	// An S3 origin makes no request until asked; this one refuses.
	s, err := s3.New(t.Context(), s3.Config{
		Bucket: "b", Region: "us-east-1", Endpoint: "http://" + testenv.FreeAddr(t), PathStyle: true,
		AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret-example",
	})
	if err != nil {
		t.Fatal(err)
	}
	hs, err := health.New(s, health.Config{Probe: time.Hour}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	if _, _, err := hs.Get(t.Context(), "k", 10); !errors.Is(err, origin.ErrUnreachable) || hs.Up() {
		t.Errorf("Get from a refusing S3 = %v, Up() = %t; want an error matching origin.ErrUnreachable, down", err, hs.Up())
	}
	if _, _, err := hs.Get(t.Context(), "k", 10); !errors.Is(err, origin.ErrDown) {
		t.Errorf("Get while down = %v; want an error matching origin.ErrDown", err)
	}
}

// TestContract runs the contract suite against a health check over the
// in-memory origin, which is no origin.Getter: Get is then a Stat.
func TestContract(t *testing.T) {
	origintest.Run(t, func(t *testing.T) (origin.Origin, origintest.Fixture) {
		m := origintest.NewMem()
		h, err := health.New(m, health.Config{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h, m
	})
}

func TestNew(t *testing.T) {
	p := upstream(t)
	o, err := httporigin.New(httporigin.Config{URL: "http://" + p.Addr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := health.New(o, health.Config{Probe: -time.Second}, nil); err == nil {
		t.Errorf("New with a negative Probe succeeded; want an error")
	}
}
