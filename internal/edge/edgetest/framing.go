package edgetest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/testenv"
)

// framingWait bounds every read and write of Exchange. It is reached only
// when a server neither answers nor closes, which is a failure; a passing
// exchange never waits for it.
const framingWait = testenv.WaitTimeout

// probe is the request Exchange sends once the first answer is read. Its
// answer, 200 "a%20b" (the suite's object "public/a%20b.txt"), shows that
// the connection stayed open, and that nothing the request left behind was
// glued to it. It asks the server to close afterwards, so that the exchange
// always ends.
const probe = "GET /public/a%2520b.txt HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"

// Exchange sends raw as it is on a new connection to addr (host:port) and
// reads what comes back, a probe request included (see probe), until the
// server closes the connection. It returns the outcome in the words of the
// framing table: the statuses of the answers before the probe's, then
// "close" if the server closed the connection without answering the probe,
// or "open" if it answered the probe. The probe is not sent after an answer
// that says "Connection: close", nor when raw carries it already.
func Exchange(t testing.TB, addr, raw string) string {
	t.Helper()
	var d net.Dialer
	conn, err := d.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	probe := strings.ReplaceAll(probe, "{host}", addr)
	write := func(s string) error {
		conn.SetWriteDeadline(time.Now().Add(framingWait))
		_, err := io.WriteString(conn, s)
		return err
	}
	if err := write(raw); err != nil {
		t.Fatalf("write request: %v", err)
	}
	br := bufio.NewReader(conn)
	var got []string
	method, _, _ := strings.Cut(raw, " ")
	// read reads one response; done is true when the server closed the
	// connection instead.
	read := func() (resp *http.Response, body []byte, done bool) {
		conn.SetReadDeadline(time.Now().Add(framingWait))
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		method = "GET"
		if closed(err) {
			return nil, nil, true
		}
		if err != nil {
			t.Fatalf("after %q: read response: %v", got, err)
		}
		body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil && !closed(err) {
			t.Fatalf("after %q: read body: %v", got, err)
		}
		return resp, body, false
	}
	probed := strings.Contains(raw, probe) // sent along already
	for {
		resp, body, done := read()
		if done {
			return strings.Join(append(got, "close"), " ")
		}
		if probed && resp.StatusCode == 200 && string(body) == "a%20b" && resp.Close {
			if _, _, done := read(); !done {
				t.Fatalf("after %q: the probe's answer, then more", got)
			}
			return strings.Join(append(got, "open"), " ")
		}
		got = append(got, fmt.Sprint(resp.StatusCode))
		if !probed && !resp.Close {
			if err := write(probe); err != nil && !closed(err) {
				t.Fatalf("write probe: %v", err)
			}
			probed = true
		}
	}
}

// closed reports whether err means the peer closed the connection.
func closed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// The outcomes of a framing case: the first answer's status, then whether
// the connection stayed open for the probe.
const (
	served       = "200 open"  // answered; the connection stays usable
	servedClosed = "200 close" // answered, then the connection closed
	rejected     = "400 close"
	notImpl      = "501 close" // net/http's answer to a transfer coding it does not implement
)

// framingCase is one request a smuggler would try, what a careful server
// may answer to it, and what each adapter answers.
type framingCase struct {
	name string
	raw  string
	// safe are the answers a careful server may give (RFC 9112 §6 and
	// §11.2, RFC 9110 §8.6): never the smuggled request's, never an open
	// connection after an ambiguous framing.
	safe []string
	// The adapters' answers; each must be one of safe.
	nethttp, fasthttp string
}

// answer is what adapter answers to c.
func (c framingCase) answer(a Adapter) string {
	switch a {
	case NetHTTP:
		return c.nethttp
	case FastHTTP:
		return c.fasthttp
	}
	return ""
}

// framingCases are the framing table's requests, for a server at host.
// Their object is "public/hello.txt"; a smuggled request asks for it with
// "?smuggled".
func framingCases(host string) []framingCase {
	var (
		get      = "GET /public/hello.txt HTTP/1.1\r\nHost: " + host + "\r\n"
		get10    = "GET /public/hello.txt HTTP/1.0\r\nHost: " + host + "\r\nConnection: keep-alive\r\n"
		smuggled = "GET /public/hello.txt?smuggled HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
		last     = "0\r\n\r\n"
		probe    = strings.ReplaceAll(probe, "{host}", host)
	)
	chunk := func(s string) string { return fmt.Sprintf("%x\r\n%s\r\n", len(s), s) }
	cl := func(body string) string { return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body) }
	var (
		// Both Content-Length and Transfer-Encoding, or Transfer-Encoding
		// on HTTP/1.0: refuse, or answer by the chunked framing, but close
		// either way (RFC 9112 §6.1, §6.3 item 3).
		closes = []string{servedClosed, rejected}
		// A transfer coding the server cannot read: 400 when chunked is
		// not the final coding (§6.3 item 4), 501 for a coding it does not
		// implement (§6.1); the body cannot be delimited, so close.
		refuses = []string{rejected, notImpl}
		// Invalid framing or a field line a server must refuse: 400.
		rejects = []string{rejected}
		// A variation the RFCs let a server accept or refuse.
		either = []string{served, rejected}
		// A body the edge does not read: read past it or close.
		body = []string{served, servedClosed}
		// A chunked body that cannot be read to its end: the answer may
		// go out, but the connection must not be reused.
		badBody = []string{servedClosed, rejected}
	)
	return []framingCase{
		// The harness sees a second answer on the connection when there is one.
		{"pipelined", get + "\r\n" + get + "\r\n", []string{"200 200 open"}, "200 200 open", "200 200 open"},

		{"CL then TE", get + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + last, closes, servedClosed, servedClosed},
		{"TE then CL", get + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + last, closes, servedClosed, servedClosed},
		// A front end that frames by Content-Length passes the smuggled
		// request on as body; one framing by chunked would answer it.
		{"CL.TE smuggle", get + "Transfer-Encoding: chunked\r\n" + cl(last+smuggled), closes, servedClosed, servedClosed},
		// The reverse: the smuggled request is chunk data.
		{"TE.CL smuggle", get + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(smuggled) + last, closes, servedClosed, servedClosed},
		{"CL + TE xchunked smuggle", get + "Content-Length: 4\r\nTransfer-Encoding: xchunked\r\n\r\n" + chunk(smuggled) + last, refuses, notImpl, rejected},

		// RFC 9110 §8.6: repeated equal values may be taken as one, or refused.
		{"CL CL same", get + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", either, served, rejected},
		{"CL CL differ", get + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", rejects, rejected, rejected},
		{"CL list same", get + "Content-Length: 5, 5\r\n\r\nhello", either, rejected, rejected},
		{"CL list differ", get + "Content-Length: 5, 6\r\n\r\nhello!", rejects, rejected, rejected},
		{"CL plus", get + "Content-Length: +5\r\n\r\nhello", rejects, rejected, rejected},
		{"CL negative", get + "Content-Length: -5\r\n\r\nhello", rejects, rejected, rejected},
		{"CL empty", get + "Content-Length: \r\n\r\n", rejects, rejected, rejected},
		{"CL overflow", get + "Content-Length: 18446744073709551621\r\n\r\nhello", rejects, rejected, rejected},
		{"CL leading zeros", get + "Content-Length: 0005\r\n\r\nhello", []string{served}, served, served},

		{"TE chunked, identity", get + "Transfer-Encoding: chunked, identity\r\n\r\n" + last, refuses, notImpl, rejected},
		{"TE identity, chunked", get + "Transfer-Encoding: identity, chunked\r\n\r\n" + last, refuses, notImpl, rejected},
		{"TE gzip, chunked", get + "Transfer-Encoding: gzip, chunked\r\n\r\n" + last, refuses, notImpl, rejected},
		{"TE xchunked", get + "Transfer-Encoding: xchunked\r\n\r\n" + last, refuses, notImpl, rejected},
		{"TE chunked, chunked", get + "Transfer-Encoding: chunked, chunked\r\n\r\n" + last, refuses, notImpl, rejected},
		{"TE identity", get + "Transfer-Encoding: identity\r\n\r\n", refuses, notImpl, rejected},
		// A front end that reads an unknown coding to the end of the
		// connection would pass the smuggled request on as body.
		{"TE identity smuggle", get + "Transfer-Encoding: identity\r\n\r\n" + smuggled, refuses, notImpl, rejected},
		{"TE empty", get + "Transfer-Encoding: \r\n\r\n", refuses, notImpl, rejected},
		{"TE second header", get + "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n" + last, refuses, notImpl, rejected},
		{"TE second header chunked", get + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + last, refuses, notImpl, rejected},
		// Coding names are case-insensitive (RFC 9110 §10.1.4).
		{"TE ChUnKeD", get + "Transfer-Encoding: ChUnKeD\r\n\r\n" + last, body, servedClosed, served},

		// HTTP/1.0 has no chunked coding: RFC 9112 §6.1.
		{"HTTP/1.0 keep-alive", get10 + "\r\n", body, servedClosed, served},
		{"TE HTTP/1.0", get10 + "Transfer-Encoding: chunked\r\n\r\n" + last, closes, servedClosed, rejected},
		{"TE CL HTTP/1.0", get10 + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n" + last, closes, servedClosed, rejected},
		{"TE.CL smuggle HTTP/1.0", get10 + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk(smuggled) + last, closes, servedClosed, rejected},

		// obs-fold: refuse, or replace it with a space (RFC 9112 §5.2).
		{"obs-fold", get + "X-Folded: a\r\n b\r\n\r\n", either, served, served},
		{"obs-fold tab", get + "X-Folded: a\r\n\tb\r\n\r\n", either, served, served},
		{"obs-fold TE", get + "Transfer-Encoding:\r\n chunked\r\n\r\n" + last, []string{served, servedClosed, rejected}, servedClosed, served},
		{"obs-fold CL", get + "Content-Length:\r\n 5\r\n\r\nhello", either, served, served},
		{"obs-fold TE CL.TE smuggle", get + "Transfer-Encoding:\r\n chunked\r\n" + cl(last+smuggled), closes, servedClosed, servedClosed},
		// Whitespace before the first field line (RFC 9112 §2.2).
		{"space-led first line", "GET /public/hello.txt HTTP/1.1\r\n X: y\r\nHost: " + host + "\r\n\r\n", either, rejected, rejected},
		// Whitespace before the colon: 400 (RFC 9112 §5.1).
		{"space before colon TE", get + "Transfer-Encoding : chunked\r\n\r\n" + last, rejects, rejected, rejected},
		{"space before colon CL", get + "Content-Length : 5\r\n\r\nhello", rejects, rejected, rejected},
		{"tab before colon", get + "Transfer-Encoding\t: chunked\r\n\r\n" + last, rejects, rejected, rejected},
		// A field name is a token (RFC 9110 §5.1): one with a space is no
		// header a front end and the edge could agree on.
		{"space in name TE", get + "Transfer Encoding: chunked\r\n\r\n" + last, rejects, rejected, rejected},
		{"space in name CL smuggle", get + "Content Length: " + fmt.Sprint(len(smuggled)) + "\r\n\r\n" + smuggled, rejects, rejected, rejected},

		// A bare LF may end a line (RFC 9112 §2.2). fasthttp waits for a
		// CRLFCRLF before it reads a head ended by bare LFs, so the probe
		// goes with the request there.
		{"bare LF request line", "GET /public/hello.txt HTTP/1.1\nHost: " + host + "\r\n\r\n", either, served, served},
		{"bare LF header", get + "X-A: a\nX-B: b\r\n\r\n", either, served, served},
		{"bare LF all", "GET /public/hello.txt HTTP/1.1\nHost: " + host + "\n\n" + probe, either, served, served},
		{"bare LF end", get + "X-A: a\r\n\n" + probe, either, served, served},
		{"bare LF hides TE", get + "X-A: a\nTransfer-Encoding: chunked\r\n" + cl(last+smuggled), closes, servedClosed, servedClosed},
		// A bare CR is invalid or a space (RFC 9112 §2.2), never a line end.
		{"bare CR request line", "GET /public/hello.txt HTTP/1.1\rHost: " + host + "\r\n\r\n", rejects, rejected, rejected},
		{"bare CR header", get + "X-A: a\rb\r\n\r\n", either, rejected, rejected},
		{"bare CR hides TE", get + "X-A: a\rTransfer-Encoding: chunked\r\n" + cl(last+smuggled), either, rejected, rejected},
		// NUL in a value: refuse or replace with SP (RFC 9110 §5.5).
		{"NUL in value", get + "X-A: a\x00b\r\n\r\n", either, rejected, rejected},

		{"chunked", get + "Transfer-Encoding: chunked\r\n\r\n" + chunk("hello") + last, body, servedClosed, served},
		{"chunk ext", get + "Transfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n" + last, body, servedClosed, served},
		// Valid (BWS around the extension), but both parsers refuse it.
		{"chunk ext BWS", get + "Transfer-Encoding: chunked\r\n\r\n5 ; name = value\r\nhello\r\n" + last, []string{served, servedClosed, rejected}, servedClosed, servedClosed},
		{"chunk size invalid", get + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n" + last, badBody, servedClosed, servedClosed},
		{"chunk size 0x", get + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n" + last, badBody, servedClosed, servedClosed},
		{"chunk size negative", get + "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n" + last, badBody, servedClosed, servedClosed},
		// 2^64+5: a parser that wraps reads a 5-byte chunk.
		{"chunk size overflow", get + "Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n" + last, badBody, servedClosed, servedClosed},
		// Valid, but longer than either parser takes.
		{"chunk size 20 digits", get + "Transfer-Encoding: chunked\r\n\r\n00000000000000000005\r\nhello\r\n" + last, []string{served, servedClosed, rejected}, servedClosed, servedClosed},
		{"chunk data overrun", get + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n" + last, badBody, servedClosed, servedClosed},
		{"chunk lines bare LF", get + "Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n", badBody, servedClosed, servedClosed},
		{"chunk holds a request", get + "Transfer-Encoding: chunked\r\n\r\n" + chunk(smuggled) + last, body, servedClosed, served},
		{"chunk trailer", get + "Transfer-Encoding: chunked\r\n\r\n0\r\nX-T: t\r\n\r\n", body, servedClosed, served},
		// A trailer cannot carry framing (RFC 9110 §6.5.1).
		{"chunk trailer CL", get + "Transfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 5\r\n\r\n", []string{served, servedClosed, rejected}, servedClosed, servedClosed},

		// A body on GET or HEAD is read past, never taken for a request
		// (RFC 9110 §9.3.1).
		{"GET body", get + cl("hello"), body, served, served},
		{"GET body holds a request", get + cl(smuggled), body, served, served},
		{"HEAD body holds a request", "HEAD /public/hello.txt HTTP/1.1\r\nHost: " + host + "\r\n" + cl(smuggled), body, served, served},

		// Exactly one Host (RFC 9112 §3.2).
		{"no Host", "GET /public/hello.txt HTTP/1.1\r\n\r\n", rejects, rejected, rejected},
		{"two Hosts", get + "Host: " + host + "\r\n\r\n", rejects, rejected, rejected},
	}
}

// testFraming sends every framing case on a connection of its own and
// checks that the adapter answers as the table says, and that the table
// says only what a careful server may answer.
func (f *fixture) testFraming(t *testing.T, adapter Adapter) {
	for _, tc := range framingCases(f.host) {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.answer(adapter)
			if !slices.Contains(tc.safe, want) {
				t.Fatalf("the table has %s answer %q; a careful server answers one of %q", adapter, want, tc.safe)
			}
			if got := Exchange(t, f.host, tc.raw); got != want {
				t.Errorf("%s answers %q; want %q (safe: %q)", adapter, got, want, tc.safe)
			}
		})
	}
}
