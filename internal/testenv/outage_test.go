package testenv_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/testenv"
)

func TestOutageProxy(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "from "+r.Host)
	}))
	defer origin.Close()
	p := testenv.NewOutageProxy(t, origin.URL)
	get := func(timeout time.Duration) (string, error) {
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, "GET", "http://"+p.Addr+"/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		// A new connection each time: a kept-alive one would outlive
		// the refusal.
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if body, err := get(10 * time.Second); body != "from "+p.Addr || err != nil {
		t.Errorf("up: %q, %v; want %q (the Host header kept)", body, err, "from "+p.Addr)
	}
	p.Set(t, testenv.OriginBlackholed)
	if _, err := get(50 * time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("blackholed: %v; want the client's deadline", err)
	}
	p.Set(t, testenv.OriginRefused)
	if _, err := get(10 * time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("refused: %v; want ECONNREFUSED", err)
	}
	p.Set(t, testenv.OriginUp)
	if body, err := get(10 * time.Second); body != "from "+p.Addr || err != nil {
		t.Errorf("up again: %q, %v; want %q", body, err, "from "+p.Addr)
	}
	if n := p.Requests("/x"); n != 3 {
		t.Errorf("Requests(/x) = %d; want 3 (up, blackholed, up again)", n)
	}
}
