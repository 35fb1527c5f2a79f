package fasthttp_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/edgetest"
	"github.com/signet-dev/signet/internal/edge/fasthttp"
	"github.com/signet-dev/signet/internal/edge/nethttp"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/origintest"
)

// BenchmarkAdapters compares the two adapters over the same edge: requests
// for a 1 KiB object, public and behind a canned P-256 signed URL, each on
// a keep-alive loopback connection per parallel client. ns/op is the wall
// time per request across all clients (req/s is its inverse), and
// allocs/op counts the whole process, the minimal client included, which
// allocates nothing per request.
func BenchmarkAdapters(b *testing.B) {
	keys := edgetest.NewKeys(b)
	mem := origintest.NewMem()
	obj := bytes.Repeat([]byte("x"), 1024)
	mem.PutInfo(origin.Info{Key: "pub/a.txt", ModTime: edgetest.ModTime, ETag: `"a"`}, obj)
	mem.PutInfo(origin.Info{Key: "private/a.txt", ModTime: edgetest.ModTime, ETag: `"a"`}, obj)
	e, err := edge.New(edge.Config{
		Now: func() time.Time { return edgetest.Now },
		Distributions: []edge.Distribution{{Name: "bench", Origin: mem, Behaviors: []edge.Behavior{
			{PathPattern: "/private/*", Verifier: keys.Verifier},
			{PathPattern: "*"},
		}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	signed, err := keys.Trusted.SignCanned("http://bench.test/private/a.txt", edgetest.Now.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	adapters := []struct {
		name  string
		serve func(b *testing.B, ln net.Listener)
	}{
		{"nethttp", func(b *testing.B, ln net.Listener) {
			srv := &http.Server{Handler: nethttp.NewHandler(e, nethttp.Options{}), ReadHeaderTimeout: time.Minute}
			go srv.Serve(ln)
			b.Cleanup(func() { srv.Close() })
		}},
		{"fasthttp", func(b *testing.B, ln net.Listener) {
			srv, err := fasthttp.New(e, fasthttp.Options{ReadTimeout: time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			go srv.Serve(ln)
			b.Cleanup(func() { srv.Close() })
		}},
	}
	targets := []struct{ name, target string }{
		{"public", "/pub/a.txt"},
		{"signed-p256", strings.TrimPrefix(signed, "http://bench.test")},
	}
	for _, a := range adapters {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		a.serve(b, ln)
		for _, tc := range targets {
			b.Run(a.name+"/"+tc.name, func(b *testing.B) {
				req := []byte("GET " + tc.target + " HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: bench\r\n\r\n")
				b.ReportAllocs()
				b.SetParallelism(4) // connections per CPU: keep the server busy while clients wait
				b.RunParallel(func(pb *testing.PB) {
					c, err := dial(ln.Addr().String())
					if err != nil {
						b.Error(err)
						return
					}
					defer c.conn.Close()
					for pb.Next() {
						if err := c.get(req, len(obj)); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
			})
		}
	}
}

// client is a minimal HTTP/1.1 client on one keep-alive connection.
type client struct {
	conn net.Conn
	br   *bufio.Reader
}

func dial(addr string) (*client, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &client{conn: conn, br: bufio.NewReaderSize(conn, 16<<10)}, nil
}

// get sends req and reads a 200 response with a body of size bytes.
func (c *client) get(req []byte, size int) error {
	if _, err := c.conn.Write(req); err != nil {
		return err
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("status line %q; want 200", line)
	}
	length := -1
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if len(line) > 16 && bytes.EqualFold(line[:15], []byte("Content-Length:")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(line[15:]))); err != nil {
				return err
			}
		}
	}
	if length != size {
		return errors.New("unexpected Content-Length " + strconv.Itoa(length))
	}
	_, err = c.br.Discard(length)
	return err
}
