package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"sync"

	"github.com/signet-dev/signet/internal/origin"
)

// Plan is the edge's answer to one request: the status and headers to
// send, and a body that is either a small fixed text or byte ranges of one
// object version, read from the origin only when WriteBody runs. Adapters
// write Header and Status as they are, then call WriteBody; they add no
// policy of their own. A Plan belongs to one request and is not safe for
// concurrent use.
type Plan struct {
	// Status is the HTTP status, or StatusClientClosed.
	Status int
	// Header is the full response header set: Content-Type,
	// Content-Length, ETag, Last-Modified, Accept-Ranges, Content-Range,
	// Cache-Control, Location, Allow, ... (the adapter adds only Date).
	Header http.Header
	// Body is a small fixed body (CloudFront XML, a short error text), or
	// nil. It is nil for HEAD.
	Body []byte

	// Origin and Object name the object version the body is read from;
	// Object is also set for 304, 412, 416 and 302 (redirect mode), for
	// the log.
	Origin origin.Origin
	Object *origin.Info
	// Ranges are the byte ranges of Object the body carries: one for a 200
	// (the whole object) or a single-range 206, several for a
	// multipart/byteranges 206 framed with Boundary. Empty for HEAD, for an
	// empty object, and when there is no object body.
	Ranges   []ByteRange
	Boundary string

	// For the access log and metrics; never credentials.
	//
	// Distribution is the distribution's name and Behavior its matched
	// path pattern, "" when the request got no further.
	Distribution, Behavior string
	// KeyID is the key pair id of a signed request, set only once the id is
	// known to be trusted by the behavior, so it is a bounded label.
	KeyID string
	// Reason is the private cause of a refusal or failure (status >= 400,
	// or a body that failed mid-way), or nil. It is for logs and, with
	// Config.DebugReason, the X-Signet-Reason header; never the body.
	Reason error
	// Result is one of the Result* constants.
	Result string
	// XCache is the edge cache's answer, as in X-Cache: "Hit",
	// "RefreshHit", "Miss" or "Error"; "" when the distribution has no
	// edge cache or the answer did not involve it.
	XCache string

	partType string // Content-Type of each multipart part

	// first is the origin read of Ranges[0], opened by Decide; WriteBody
	// consumes it and Close releases it.
	first io.ReadCloser
	// edgeCached says the distribution has an edge cache, and
	// edgeCacheRec records how it answered.
	edgeCached   bool
	edgeCacheRec origin.Recorder

	// obj is what Object points to, vals backs the header values (see
	// set), and cw and lr are WriteBody's writer and range reader: parts
	// of the plan, so that the hot path does not allocate each of them on
	// its own.
	obj   origin.Info
	vals  [12]string
	nvals int
	cw    countingWriter
	lr    io.LimitedReader
}

// set sets header k, which must be in canonical form, to the single value
// v, as Header.Set does, taking the value's slice from the plan's own
// array while it lasts.
func (p *Plan) set(k, v string) {
	if p.nvals == len(p.vals) {
		p.Header[k] = []string{v}
		return
	}
	i := p.nvals
	p.vals[i] = v
	p.nvals++
	p.Header[k] = p.vals[i : i+1 : i+1]
}

// ByteRange is Len bytes of an object starting at offset Off.
type ByteRange struct{ Off, Len int64 }

func (r ByteRange) contentRange(size int64) string {
	return "bytes " + strconv.FormatInt(r.Off, 10) + "-" + strconv.FormatInt(r.Off+r.Len-1, 10) +
		"/" + strconv.FormatInt(size, 10)
}

func (p *Plan) partHeader(r ByteRange) textproto.MIMEHeader {
	return textproto.MIMEHeader{
		"Content-Range": {r.contentRange(p.Object.Size)},
		"Content-Type":  {p.partType},
	}
}

// multipartSize is the exact length of the multipart body WriteBody
// writes, computed by framing the parts without their bytes.
func (p *Plan) multipartSize() int64 {
	var cw countingWriter
	cw.w = io.Discard
	mw := multipart.NewWriter(&cw)
	mw.SetBoundary(p.Boundary)
	var n int64
	for _, r := range p.Ranges {
		mw.CreatePart(p.partHeader(r))
		n += r.Len
	}
	mw.Close()
	return n + cw.n
}

// bufPool holds the copy buffers of WriteBody, so that streaming costs one
// small buffer per response, whatever the object's size.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// WriteBody writes the plan's body to w: the fixed Body, or the byte ranges
// read from the origin, with multipart framing when there are several. It
// streams each range through one pooled buffer (io.CopyBuffer) and never
// holds an object whole; when w implements io.ReaderFrom, as a net/http
// ResponseWriter does, the copy is left to it, which streams through its
// own pooled buffer or sendfile for local files. Cancelling
// ctx aborts the origin read. Adapters call it after writing the status and
// headers.
//
// It returns the bytes written. On failure it records the cause in Reason
// and sets Result to ResultClientClosed when ctx was cancelled and
// ResultOriginError otherwise; the status has been sent by then, so the
// adapter should abort the response rather than end it cleanly.
func (p *Plan) WriteBody(ctx context.Context, w io.Writer) (int64, error) {
	defer p.Close()
	cw := &p.cw
	cw.w, cw.n = w, 0
	err := p.writeBody(ctx, cw)
	if err != nil {
		p.Reason = err
		p.Result = ResultOriginError
		if ctx.Err() != nil {
			p.Result = ResultClientClosed
		}
	}
	return cw.n, err
}

func (p *Plan) writeBody(ctx context.Context, w *countingWriter) error {
	if p.Body != nil {
		_, err := w.Write(p.Body)
		return err
	}
	if len(p.Ranges) == 0 {
		return nil
	}
	if p.Origin == nil || p.Object == nil {
		return errors.New("edge: plan has ranges but no object")
	}
	if p.Boundary == "" {
		if len(p.Ranges) != 1 {
			return errors.New("edge: plan has several ranges but no boundary")
		}
		return p.copyRange(ctx, w, p.Ranges[0])
	}
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(p.Boundary); err != nil {
		return fmt.Errorf("edge: %w", err)
	}
	for _, r := range p.Ranges {
		if _, err := mw.CreatePart(p.partHeader(r)); err != nil {
			return err
		}
		// A part's writer only forwards to w, so the bytes go to w
		// directly, where io.ReaderFrom can take them.
		if err := p.copyRange(ctx, w, r); err != nil {
			return err
		}
	}
	return mw.Close()
}

// Close releases the origin read Decide opened for the plan's body, if
// WriteBody has not consumed it. Adapters call it when they drop a plan
// without writing its body (the viewer left before the headers went out);
// it is safe to call more than once, and after WriteBody.
func (p *Plan) Close() error {
	if p.first == nil {
		return nil
	}
	err := p.first.Close()
	p.first = nil
	return err
}

// copyRange copies one range from the origin to w, exactly r.Len bytes:
// the first range from the read Decide opened, the others from reads
// opened here.
func (p *Plan) copyRange(ctx context.Context, w *countingWriter, r ByteRange) error {
	rc := p.first
	p.first = nil
	if rc == nil {
		var err error
		if rc, err = p.Origin.Open(ctx, *p.Object, r.Off, r.Len); err != nil {
			return fmt.Errorf("open %q at %d: %w", p.Object.Key, r.Off, err)
		}
	}
	defer rc.Close()
	var n int64
	var err error
	if wt, ok := rc.(io.WriterTo); ok && r.Len >= directMin {
		// Origins bound their readers to the range they were opened for
		// (origin.Origin; origintest checks it), so the reader may write
		// itself: a file reaches sendfile through w's ReadFrom, a cached
		// chunk is written as it is.
		n, err = wt.WriteTo(w)
		if err == nil && n > r.Len {
			err = fmt.Errorf("origin sent %d bytes, over the %d asked for", n, r.Len)
		}
	} else {
		p.lr.R, p.lr.N = rc, r.Len
		n, err = w.copy(&p.lr, r.Len >= directMin)
		p.lr.R = nil
	}
	if err == nil && n < r.Len {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("read %q at %d: %w", p.Object.Key, r.Off+n, err)
	}
	return nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// directMin is the smallest range handed to the writer's ReadFrom or the
// origin reader's WriteTo. A smaller one is copied through a buffer into
// the adapter's own buffer, so that the headers and the body leave in one
// write: net/http's ReadFrom, for one, flushes the headers before it
// copies, which costs a system call per response.
const directMin = 64 << 10

// ReadFrom lets the underlying writer do the copy when it can (net/http's
// sendfile path); otherwise it copies with a pooled buffer.
func (c *countingWriter) ReadFrom(r io.Reader) (int64, error) { return c.copy(r, true) }

// copy copies r to the underlying writer: through its ReadFrom when direct
// and it has one, otherwise with a pooled buffer.
func (c *countingWriter) copy(r io.Reader, direct bool) (int64, error) {
	var n int64
	var err error
	if rf, ok := c.w.(io.ReaderFrom); ok && direct {
		n, err = rf.ReadFrom(r)
	} else {
		bufp := bufPool.Get().(*[]byte)
		n, err = io.CopyBuffer(writerOnly{c.w}, r, *bufp)
		bufPool.Put(bufp)
	}
	c.n += n
	return n, err
}

// writerOnly hides any ReadFrom method, so io.CopyBuffer uses the buffer.
type writerOnly struct{ io.Writer }
