package fasthttp

import (
	"bytes"
	"errors"

	fh "github.com/valyala/fasthttp"
)

// The framing refusals: requests fasthttp's parser takes and net/http's
// refuses, where a proxy in front could frame the request differently from
// fasthttp (request smuggling).
var (
	errFieldName         = errors.New("fasthttp: space in a header field name")
	errTransferEncoding  = errors.New("fasthttp: transfer-encoding other than chunked")
	transferEncodingName = []byte("transfer-encoding")
)

// checkFraming refuses, from the request head exactly as received, the two
// framings fasthttp accepts that RFC 9112 makes a server refuse:
//
//   - A field name with a space in it ("Content Length: 5"). fasthttp keeps
//     it as an unknown header and so reads no body, while a proxy that took
//     it for Content-Length would pass a smuggled request on as the body.
//     A field name is a token (RFC 9110 §5.1); net/http answers 400.
//   - "Transfer-Encoding: identity". fasthttp drops it and reads no body,
//     but a Transfer-Encoding whose final coding is not chunked leaves the
//     body's length unknown, and §6.3 requires a 400 and closing.
//
// Every other transfer coding, a Transfer-Encoding on HTTP/1.0, repeated or
// invalid Content-Length and whitespace before a colon are refused by
// fasthttp itself, which also closes the connection after a request with
// both Content-Length and Transfer-Encoding.
func checkFraming(h *fh.RequestHeader) error {
	chunked := h.ContentLength() == -1
	raw := h.RawHeaders()
	for len(raw) > 0 {
		// raw starts a line: a field line, a folded continuation or the
		// blank line at the end.
		if c := raw[0]; c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			colon := bytes.IndexByte(raw, ':')
			if colon < 0 {
				return nil // fasthttp took no such line; nothing follows
			}
			name := raw[:colon]
			if bytes.IndexByte(name, ' ') >= 0 {
				return errFieldName
			}
			if !chunked && len(name) == len(transferEncodingName) && bytes.EqualFold(name, transferEncodingName) {
				return errTransferEncoding
			}
			raw = raw[colon:]
		}
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			return nil
		}
		raw = raw[i+1:]
	}
	return nil
}
