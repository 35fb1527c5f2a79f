package fasthttp

// An internal test: checkFraming is fuzzed and measured on its own, without
// a server around it.

import (
	"bufio"
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	fh "github.com/valyala/fasthttp"
	"golang.org/x/net/http/httpguts"

	"github.com/signet-dev/signet/internal/edge/nethttp"
)

// parseHead reads raw as fasthttp's server does, then applies checkFraming.
func parseHead(raw []byte) (*fh.RequestHeader, error) {
	var h fh.RequestHeader
	if err := h.Read(bufio.NewReader(bytes.NewReader(raw))); err != nil {
		return nil, err
	}
	return &h, checkFraming(&h)
}

func TestCheckFraming(t *testing.T) {
	const get = "GET /a HTTP/1.1\r\nHost: x\r\n"
	for _, tc := range []struct {
		name, head string
		want       error
	}{
		{"plain", get + "\r\n", nil},
		{"chunked", get + "Transfer-Encoding: chunked\r\n\r\n", nil},
		{"content length", get + "Content-Length: 5\r\n\r\n", nil},
		{"folded value", get + "X-A: a\r\n b c\r\n\r\n", nil},
		{"space in value", get + "X-A: a b: c\r\n\r\n", nil},
		{"space in name", get + "Content Length: 5\r\n\r\n", errFieldName},
		{"space in last name", get + "X-A: a\r\nX B: b\r\n\r\n", errFieldName},
		{"identity", get + "Transfer-Encoding: identity\r\n\r\n", errTransferEncoding},
		{"identity, bare LF", get + "transfer-encoding: identity\nX-B: b\r\n\r\n", errTransferEncoding},
		{"identity folded", get + "Transfer-Encoding:\r\n identity\r\n\r\n", errTransferEncoding},
	} {
		_, err := parseHead([]byte(tc.head))
		if err != tc.want {
			t.Errorf("%s: checkFraming(%q) = %v; want %v", tc.name, tc.head, err, tc.want)
		}
	}
}

// FuzzFraming reads arbitrary request heads with both adapters' parsers:
// fasthttp's with checkFraming, and net/http's with nethttp.Framing. Where
// both take a request and both would keep the connection open, they must
// agree on its body's length, or one adapter would read the next request
// where the other reads body: request smuggling between two parsers that
// signet itself ships. A framing net/http refuses, fasthttp must refuse or
// close after. No panic, either.
func FuzzFraming(f *testing.F) {
	const get = "GET /a HTTP/1.1\r\nHost: x\r\n"
	for _, seed := range []string{
		get + "\r\n",
		get + "Content-Length: 5\r\n\r\n",
		get + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		get + "Transfer-Encoding: chunked\r\n\r\n",
		get + "Transfer-Encoding: identity\r\n\r\n",
		get + "Content Length: 5\r\n\r\n",
		get + "Content-Length:\r\n 5\r\n\r\n",
		get + "Content-Length: 5\r\nContent-Length: 5\r\n\r\n",
		"GET /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\n",
		"GET /a HTTP/1.1\nHost: x\nContent-Length: 5\n\r\n",
		get + "X-A: a\rContent-Length: 5\r\n\r\n",
	} {
		f.Add([]byte(seed))
	}
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, err := parseHead(raw)
		if err != nil {
			return
		}
		r, err := readRequest(raw)
		if err != nil {
			if !h.ConnectionClose() && framingError(err) {
				t.Errorf("%q: net/http refuses its framing (%v), fasthttp keeps the connection", raw, err)
			}
			return
		}
		w := httptest.NewRecorder()
		nethttp.Framing(noop).ServeHTTP(w, r)
		if h.ConnectionClose() || r.Close || w.Header().Get("Connection") == "close" {
			return // the request's body is the last thing either reads
		}
		fast := int64(h.ContentLength())
		if fast == -2 { // no body
			fast = 0
		}
		if fast != r.ContentLength {
			t.Errorf("%q: fasthttp frames a body of %d bytes, net/http of %d, and both keep the connection",
				strings.ToValidUTF8(string(raw), "?"), fast, r.ContentLength)
		}
	})
}

// framingError reports whether err is net/http's refusal of a request's
// framing: its Content-Length or Transfer-Encoding.
func framingError(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "content-length") || strings.Contains(s, "transfer encoding")
}

// readRequest reads raw as net/http's server does: http.ReadRequest (which
// refuses a second Host), then the server's own checks of the Host and of
// field names and values.
func readRequest(raw []byte) (*http.Request, error) {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return nil, err
	}
	switch {
	case r.ProtoAtLeast(1, 1) && r.Host == "" && r.Method != "CONNECT":
		return nil, errors.New("missing Host")
	case !httpguts.ValidHostHeader(r.Host):
		return nil, errors.New("malformed Host")
	}
	for k, vs := range r.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, errors.New("invalid header name")
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, errors.New("invalid header value")
			}
		}
	}
	return r, nil
}

// BenchmarkCheckFraming measures the check on a browser's request head.
func BenchmarkCheckFraming(b *testing.B) {
	head := "GET /private/videos/seg1.ts?Expires=2000000000&Signature=abc&Key-Pair-Id=K1 HTTP/1.1\r\n" +
		"Host: media.example.com\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36\r\n" +
		"Accept: */*\r\nAccept-Language: en-US,en;q=0.9\r\nAccept-Encoding: gzip, deflate, br\r\n" +
		"Referer: https://app.example.com/watch\r\nOrigin: https://app.example.com\r\n" +
		"Sec-Fetch-Dest: empty\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Site: same-site\r\n" +
		"Range: bytes=0-\r\nConnection: keep-alive\r\n\r\n"
	h, err := parseHead([]byte(head))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := checkFraming(h); err != nil {
			b.Fatal(err)
		}
	}
}
