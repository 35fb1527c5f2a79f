package lambdafn

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// httpRequest is what an HTTP event says about its request.
type httpRequest struct {
	kind     string // for the log: "v2" or "v1"
	method   string
	path     string // raw path, stage removed
	rawQuery string
	header   http.Header
	body     string
	base64   bool
	iam      bool   // AWS authenticated the caller with IAM
	caller   string // the IAM caller's ARN, for the log
}

// httpResponse is what goes back in the response event.
type httpResponse struct {
	status int
	header map[string]string
	body   string
	base64 bool
}

// httpV2 serves an API Gateway HTTP API (payload 2.0) or Function URL
// event; both have this shape.
func (h *Handler) httpV2(ctx context.Context, payload []byte) ([]byte, error) {
	resp := serveEvent(ctx, h, payload, "the event is not an HTTP API or Function URL request", v2Request)
	return json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: resp.status, Headers: resp.header, Body: resp.body, IsBase64Encoded: resp.base64})
}

// httpV1 serves an API Gateway REST API (or HTTP API payload 1.0) event.
// Only bearer tokens authenticate it.
func (h *Handler) httpV1(ctx context.Context, payload []byte) ([]byte, error) {
	resp := serveEvent(ctx, h, payload, "the event is not an API Gateway REST request", v1Request)
	return json.Marshal(events.APIGatewayProxyResponse{StatusCode: resp.status, Headers: resp.header, Body: resp.body, IsBase64Encoded: resp.base64})
}

// serveEvent decodes payload as an event of type E, makes it a request
// with request, and serves it; a payload that is no E gets badEvent(notE).
func serveEvent[E any](ctx context.Context, h *Handler, payload []byte, notE string, request func(*E) httpRequest) httpResponse {
	var ev E
	if err := json.Unmarshal(payload, &ev); err != nil {
		return badEvent(notE)
	}
	return h.serveHTTP(ctx, request(&ev))
}

// v2Request is what an HTTP API (payload 2.0) or Function URL event says.
func v2Request(ev *events.APIGatewayV2HTTPRequest) httpRequest {
	in := httpRequest{
		kind:     "v2",
		method:   ev.RequestContext.HTTP.Method,
		path:     stripStage(ev.RawPath, ev.RequestContext.Stage),
		rawQuery: ev.RawQueryString,
		header:   make(http.Header, len(ev.Headers)+1),
		body:     ev.Body,
		base64:   ev.IsBase64Encoded,
	}
	for k, v := range ev.Headers {
		in.header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		in.header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	if a := ev.RequestContext.Authorizer; a != nil && a.IAM != nil {
		in.iam, in.caller = true, a.IAM.UserARN
	}
	return in
}

// v1Request is what a REST API (or HTTP API payload 1.0) event says.
func v1Request(ev *events.APIGatewayProxyRequest) httpRequest {
	in := httpRequest{
		kind:   "v1",
		method: ev.HTTPMethod,
		path:   ev.Path,
		header: make(http.Header, len(ev.Headers)),
		body:   ev.Body,
		base64: ev.IsBase64Encoded,
	}
	if len(ev.MultiValueHeaders) > 0 {
		for k, vs := range ev.MultiValueHeaders {
			for _, v := range vs {
				in.header.Add(k, v)
			}
		}
	} else {
		for k, v := range ev.Headers {
			in.header.Set(k, v)
		}
	}
	q := url.Values(ev.MultiValueQueryStringParameters)
	if len(q) == 0 {
		q = url.Values{}
		for k, v := range ev.QueryStringParameters {
			q.Set(k, v)
		}
	}
	in.rawQuery = q.Encode()
	return in
}

// stripStage removes a named stage from the front of an HTTP API's raw
// path ("/prod/v1/sign/url" on stage "prod"); the $default stage has none.
func stripStage(path, stage string) string {
	if stage == "" || stage == "$default" {
		return path
	}
	if rest, ok := strings.CutPrefix(path, "/"+stage); ok && (rest == "" || rest[0] == '/') {
		return rest
	}
	return path
}

// serveHTTP runs one request through the signing API.
func (h *Handler) serveHTTP(ctx context.Context, in httpRequest) httpResponse {
	body := []byte(in.body)
	if in.base64 {
		var err error
		if body, err = base64.StdEncoding.DecodeString(in.body); err != nil {
			return badEvent("the body is marked base64 but is not")
		}
	}
	if in.method == "" || !strings.HasPrefix(in.path, "/") {
		return badEvent("the request has no method or no path")
	}
	target := in.path
	if in.rawQuery != "" {
		target += "?" + in.rawQuery
	}
	req, err := http.NewRequestWithContext(ctx, in.method, target, bytes.NewReader(body))
	if err != nil {
		return badEvent("the request's method or path cannot be read")
	}
	req.Header = in.header
	req.Host = in.header.Get("Host")
	if in.iam {
		// AWS checked the caller's SigV4 signature, which is what the
		// Authorization header holds; act for the whole distribution.
		req.Header.Set("Authorization", "Bearer "+h.iam)
	}
	rec := &recorder{header: http.Header{}}
	h.api.ServeHTTP(rec, req)
	resp := rec.response()
	attrs := []any{"event", in.kind, "path", req.URL.Path, "status", resp.status}
	if in.iam {
		attrs = append(attrs, "caller", in.caller)
	}
	h.log.DebugContext(ctx, "http event", attrs...)
	return resp
}

// badEvent is the answer to an HTTP event that cannot be made into a
// request, in the API's error format.
func badEvent(message string) httpResponse {
	b, _ := json.Marshal(map[string]map[string]string{"error": {"code": codeInvalidEvent, "message": message}})
	return httpResponse{
		status: http.StatusBadRequest,
		header: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		body:   string(b),
	}
}

// recorder is the http.ResponseWriter the API writes to.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// response returns what was written, the body as text when it is UTF-8
// (the API writes JSON) and otherwise base64.
func (r *recorder) response() httpResponse {
	r.WriteHeader(http.StatusOK)
	out := httpResponse{status: r.status, header: make(map[string]string, len(r.header))}
	for k, vs := range r.header {
		out.header[k] = strings.Join(vs, ", ")
	}
	if utf8.Valid(r.body.Bytes()) {
		out.body = r.body.String()
	} else {
		out.body, out.base64 = base64.StdEncoding.EncodeToString(r.body.Bytes()), true
	}
	return out
}
