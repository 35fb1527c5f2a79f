// Package origintest is the contract suite that every origin.Origin runs:
// an implementation's test calls Run with a function that builds a fresh,
// empty origin and a Fixture that writes objects into it.
package origintest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/signet-dev/signet/internal/origin"
)

// A Fixture writes the objects the origin under test reads: files for a
// directory, PutObject for S3, the test upstream's store for HTTP. Its
// methods are called from one goroutine at a time.
type Fixture interface {
	// Put creates or replaces key with data. Once it returns, Stat on the
	// origin describes the new version.
	Put(key string, data []byte) error
	// Remove deletes key.
	Remove(key string) error
}

// Run runs the contract suite as subtests of t. newOrigin is called once
// per subtest and returns an origin with no objects plus its Fixture; it
// registers any cleanup with t.Cleanup.
func Run(t *testing.T, newOrigin func(t *testing.T) (origin.Origin, Fixture)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, o origin.Origin, f Fixture)
	}{
		{"NotFound", testNotFound},
		{"StatOpenAgree", testStatOpenAgree},
		{"Ranges", testRanges},
		{"EmptyObject", testEmptyObject},
		{"StableETag", testStableETag},
		{"Changed", testChanged},
		{"Cancel", testCancel},
		{"Concurrent", testConcurrent},
		{"Keys", testKeys},
		{"InvalidKeys", testInvalidKeys},
		{"Get", testGet},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, f := newOrigin(t)
			tc.fn(t, o, f)
		})
	}
}

// Content returns size deterministic pseudo-random bytes for seed: the
// same seed and size give the same bytes.
func Content(seed string, size int) []byte {
	var s [32]byte
	copy(s[:], seed)
	b := make([]byte, size)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

func put(t *testing.T, f Fixture, key string, data []byte) {
	t.Helper()
	if err := f.Put(key, data); err != nil {
		t.Fatalf("fixture Put(%q): %v", key, err)
	}
}

func stat(t *testing.T, o origin.Origin, key string) origin.Info {
	t.Helper()
	info, err := o.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	return info
}

// Read opens info's range of o and reads it all, closing the reader; on
// an error it returns what it read before. Tests of origin decorators use
// it too.
func Read(ctx context.Context, o origin.Origin, info origin.Info, off, n int64) ([]byte, error) {
	rc, err := o.Open(ctx, info, off, n)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	return b, err
}

// checkInfo checks what Stat returned for an object holding data.
func checkInfo(t *testing.T, info origin.Info, key string, data []byte) {
	t.Helper()
	if info.Key != key {
		t.Errorf("Stat(%q).Key = %q; want %q", key, info.Key, key)
	}
	if info.Size != int64(len(data)) {
		t.Errorf("Stat(%q).Size = %d; want %d", key, info.Size, len(data))
	}
	if e := info.ETag; e != "" && (len(e) < 2 || e[0] != '"' || e[len(e)-1] != '"' || strings.Count(e, `"`) != 2) {
		t.Errorf("Stat(%q).ETag = %s; want \"\" or a quoted strong validator", key, e)
	}
}

func testNotFound(t *testing.T, o origin.Origin, f Fixture) {
	put(t, f, "dir/sub/file.txt", []byte("hello"))
	for _, key := range []string{
		"missing",
		"missing/file.txt",
		"dir",                        // a directory or common prefix is not an object
		"dir/sub",                    //
		"dir/sub/file.txt/deeper",    // a file used as a directory
		"dir/sub/file.tx",            // a prefix of a key
		"dir/sub/file.txt.orig",      // a key extended
		"Dir/Sub/File.txt.missing",   // case differs and missing
		"dir/sub/missing/../missing", // invalid, may also be refused as such
	} {
		_, err := o.Stat(t.Context(), key)
		switch {
		case err == nil:
			t.Errorf("Stat(%q) succeeded; want an error matching fs.ErrNotExist", key)
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, origin.ErrInvalidKey):
			t.Errorf("Stat(%q) = %v; want an error matching fs.ErrNotExist", key, err)
		}
	}
}

func testStatOpenAgree(t *testing.T, o origin.Origin, f Fixture) {
	for _, size := range []int{1, 100, 64<<10 + 3} {
		key := fmt.Sprintf("agree/%d.bin", size)
		data := Content(key, size)
		put(t, f, key, data)
		info := stat(t, o, key)
		checkInfo(t, info, key, data)
		got, err := Read(t.Context(), o, info, 0, -1)
		if err != nil {
			t.Fatalf("Open(%q, 0, -1): %v", key, err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("Open(%q, 0, -1) read %d bytes that differ from the %d put", key, len(got), len(data))
		}
	}
}

func testRanges(t *testing.T, o origin.Origin, f Fixture) {
	const size = 10_000
	data := Content("ranges", size)
	put(t, f, "ranges.bin", data)
	info := stat(t, o, "ranges.bin")
	tests := []struct {
		name   string
		off, n int64
		want   []byte
	}{
		{"whole", 0, -1, data},
		{"whole-exact", 0, size, data},
		{"first-byte", 0, 1, data[:1]},
		{"last-byte", size - 1, 1, data[size-1:]},
		{"last-byte-to-end", size - 1, -1, data[size-1:]},
		{"middle", 1234, 4321, data[1234 : 1234+4321]},
		{"to-end", 5000, -1, data[5000:]},
		{"past-the-end", size - 10, 100, data[size-10:]},
		{"far-past-the-end", 1, 1 << 40, data[1:]},
		{"zero-length", 500, 0, nil},
		{"zero-length-at-start", 0, 0, nil},
		{"at-end", size, -1, nil},
		{"at-end-with-length", size, 5, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(t.Context(), o, info, tc.off, tc.n)
			if err != nil {
				t.Fatalf("Open(%d, %d): %v", tc.off, tc.n, err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("Open(%d, %d) read %d bytes; want the %d bytes at %d", tc.off, tc.n, len(got), len(tc.want), tc.off)
			}
		})
	}
	for _, off := range []int64{-1, size + 1} {
		if got, err := Read(t.Context(), o, info, off, 1); err == nil {
			t.Errorf("Open(%d, 1) read %d bytes; want an error for an offset outside the object", off, len(got))
		}
	}
}

func testEmptyObject(t *testing.T, o origin.Origin, f Fixture) {
	put(t, f, "empty", nil)
	info := stat(t, o, "empty")
	checkInfo(t, info, "empty", nil)
	for _, n := range []int64{-1, 0, 10} {
		got, err := Read(t.Context(), o, info, 0, n)
		if err != nil || len(got) != 0 {
			t.Errorf("Open(empty, 0, %d) = %d bytes, %v; want 0 bytes, nil", n, len(got), err)
		}
	}
}

func testStableETag(t *testing.T, o origin.Origin, f Fixture) {
	data := Content("etag", 1000)
	put(t, f, "etag.bin", data)
	first := stat(t, o, "etag.bin")
	for i := range 3 {
		again := stat(t, o, "etag.bin")
		if again.ETag != first.ETag || again.Size != first.Size || !again.ModTime.Equal(first.ModTime) {
			t.Errorf("Stat #%d = ETag %s, size %d, modified %v; want %s, %d, %v as in the first Stat",
				i+2, again.ETag, again.Size, again.ModTime, first.ETag, first.Size, first.ModTime)
		}
	}
	put(t, f, "etag.bin", Content("etag2", 1000))
	if next := stat(t, o, "etag.bin"); first.ETag != "" && next.ETag == first.ETag {
		t.Errorf("Stat after replacing the object: ETag %s unchanged; want a new one", next.ETag)
	}
}

func testChanged(t *testing.T, o origin.Origin, f Fixture) {
	const size = 4096
	tests := []struct {
		name    string
		change  func(key string) error
		off, n  int64
		wantNew []byte // what a fresh Stat and Open read afterwards; nil if removed
	}{
		{"same-size", func(k string) error { return f.Put(k, Content("v2", size)) }, 0, -1, Content("v2", size)},
		{"same-size-range", func(k string) error { return f.Put(k, Content("v2", size)) }, 10, 20, Content("v2", size)},
		{"shorter", func(k string) error { return f.Put(k, Content("v2", size/2)) }, 0, -1, Content("v2", size/2)},
		{"longer-range", func(k string) error { return f.Put(k, Content("v2", 2*size)) }, size - 1, 1, Content("v2", 2*size)},
		{"removed", func(k string) error { return f.Remove(k) }, 0, -1, nil},
		{"removed-range", func(k string) error { return f.Remove(k) }, 5, 5, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "changed/" + tc.name
			put(t, f, key, Content("v1", size))
			old := stat(t, o, key)
			if err := tc.change(key); err != nil {
				t.Fatalf("changing %q: %v", key, err)
			}
			got, err := Read(t.Context(), o, old, tc.off, tc.n)
			if !errors.Is(err, origin.ErrChanged) {
				t.Errorf("Open(old info, %d, %d) = %d bytes, %v; want an error matching origin.ErrChanged", tc.off, tc.n, len(got), err)
			}
			info, err := o.Stat(t.Context(), key)
			if tc.wantNew == nil {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Stat after removal: %v; want an error matching fs.ErrNotExist", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Stat after the change: %v", err)
			}
			checkInfo(t, info, key, tc.wantNew)
			got, err = Read(t.Context(), o, info, 0, -1)
			if err != nil || !bytes.Equal(got, tc.wantNew) {
				t.Errorf("Open(new info) = %d bytes, %v; want the %d new bytes", len(got), err, len(tc.wantNew))
			}
		})
	}
}

func testCancel(t *testing.T, o origin.Origin, f Fixture) {
	// Big enough that a cancelled read cannot be served from buffers alone.
	data := Content("cancel", 8<<20)
	put(t, f, "cancel.bin", data)
	info := stat(t, o, "cancel.bin")

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	// A caller's cancellation says nothing of the origin: it must not
	// read as the origin being unreachable.
	if _, err := o.Stat(cancelled, "cancel.bin"); !errors.Is(err, context.Canceled) || errors.Is(err, origin.ErrUnreachable) {
		t.Errorf("Stat with a cancelled context = %v; want an error matching context.Canceled and not origin.ErrUnreachable", err)
	}
	if got, err := Read(cancelled, o, info, 0, -1); !errors.Is(err, context.Canceled) || errors.Is(err, origin.ErrUnreachable) {
		t.Errorf("Open with a cancelled context = %d bytes, %v; want an error matching context.Canceled and not origin.ErrUnreachable", len(got), err)
	}

	// Read after cancel through Read itself, and through io.Copy, which
	// prefers the reader's WriteTo if it has one.
	for _, mode := range []string{"Read", "io.Copy"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			rc, err := o.Open(ctx, info, 0, -1)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer rc.Close()
			var first [1024]byte
			if _, err := io.ReadFull(rc, first[:]); err != nil {
				t.Fatalf("reading the first KiB: %v", err)
			}
			cancel()
			var src io.Reader = rc
			if mode == "Read" {
				src = struct{ io.Reader }{rc} // hides any WriteTo
			}
			n, err := io.Copy(io.Discard, src)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("reading after cancel = %d more bytes, %v; want an error matching context.Canceled", n, err)
			}
			if n+int64(len(first)) >= int64(len(data)) {
				t.Errorf("reading after cancel read the whole object (%d bytes); want it cut short", n+int64(len(first)))
			}
		})
	}
}

func testConcurrent(t *testing.T, o origin.Origin, f Fixture) {
	const size = 256 << 10
	data := Content("concurrent", size)
	put(t, f, "concurrent.bin", data)
	info := stat(t, o, "concurrent.bin")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 12 {
				if _, err := o.Stat(t.Context(), "concurrent.bin"); err != nil {
					t.Errorf("Stat: %v", err)
					return
				}
				off := r.Int64N(size)
				n := r.Int64N(size - off + 1)
				got, err := Read(t.Context(), o, info, off, n)
				if err != nil {
					t.Errorf("Open(%d, %d): %v", off, n, err)
					return
				}
				if !bytes.Equal(got, data[off:off+n]) {
					t.Errorf("Open(%d, %d) read %d bytes that differ from the object's", off, n, len(got))
					return
				}
			}
		})
	}
	wg.Wait()
}

func testKeys(t *testing.T, o origin.Origin, f Fixture) {
	keys := []string{
		"a b.txt",
		"a%20b.txt", // must not be confused with "a b.txt"
		"c+d.txt",
		"c d.txt", // must not be confused with "c+d.txt"
		"ünïcødé/日本語.bin",
		"deep/nested/dir/tree/file.txt",
		"100%.txt",
		"q?x#y.txt",
		"semi;colon,eq=amp&.txt",
		"~tilde'quote'(paren)!*$@.txt",
		"dots..in..name",
		".hidden",
		"...",
		"a/.b/..c",
	}
	for _, key := range keys {
		put(t, f, key, Content(key, 100+len(key)))
	}
	for _, key := range keys {
		want := Content(key, 100+len(key))
		info, err := o.Stat(t.Context(), key)
		if err != nil {
			t.Errorf("Stat(%q): %v", key, err)
			continue
		}
		checkInfo(t, info, key, want)
		got, err := Read(t.Context(), o, info, 0, -1)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Open(%q) = %d bytes, %v; want the %d bytes put under that key", key, len(got), err, len(want))
		}
	}
}

func testInvalidKeys(t *testing.T, o origin.Origin, f Fixture) {
	// Objects an origin that cleans paths instead of refusing them would
	// find, to catch it serving them.
	for _, key := range []string{"b", "a/b", "etc/passwd"} {
		put(t, f, key, []byte("must not be served for an invalid key: "+key))
	}
	for _, key := range []string{
		"",
		".",
		"..",
		"../b",
		"a/..",
		"a/../b",
		"a/../../b",
		"./a",
		"a/./b",
		"a//b",
		"a/",
		"/a",
		"/etc/passwd",
		"//etc/passwd",
		"a\x00",
		"a\x00b",
		"a\\b",
		"..\\b",
		"a\\..\\b",
		"\xff\xfe",
	} {
		if _, err := o.Stat(t.Context(), key); err == nil ||
			!errors.Is(err, origin.ErrInvalidKey) && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) = %v; want an error matching origin.ErrInvalidKey or fs.ErrNotExist", key, err)
		}
		info := origin.Info{Key: key, Size: 10, ETag: `"x"`}
		if got, err := Read(t.Context(), o, info, 0, -1); err == nil {
			t.Errorf("Open(%q) read %d bytes; want an error", key, len(got))
		}
	}
}

// testGet checks an origin.Getter, if the origin is one: Get answers as
// Stat does and reads the start of the same version, or gives no reader
// (a decorator over an origin that is no Getter); a missing key and an
// empty object behave as with Stat and Open.
func testGet(t *testing.T, o origin.Origin, f Fixture) {
	g, ok := o.(origin.Getter)
	if !ok {
		t.Skipf("%T is not an origin.Getter", o)
	}
	if _, _, err := g.Get(t.Context(), "get/missing.bin", 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get(missing) error = %v; want fs.ErrNotExist", err)
	}
	for _, tc := range []struct {
		size int
		n    int64
	}{{0, 10}, {1, 10}, {100, 100}, {100, 10}, {64<<10 + 3, 4096}} {
		key := fmt.Sprintf("get/%d-%d.bin", tc.size, tc.n)
		data := Content(key, tc.size)
		put(t, f, key, data)
		info, rc, err := g.Get(t.Context(), key, tc.n)
		if err != nil {
			t.Fatalf("Get(%q, %d): %v", key, tc.n, err)
		}
		var want []byte // what Get read
		if rc != nil {
			got, err := io.ReadAll(rc)
			rc.Close()
			want = data[:min(int64(len(data)), tc.n)]
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("Get(%q, %d) read %d bytes, %v; want the first %d", key, tc.n, len(got), err, len(want))
			}
		}
		checkInfo(t, info, key, data)
		if st := stat(t, o, key); !sameInfo(st, info) {
			t.Errorf("Get(%q) Info = %+v; Stat says %+v", key, info, st)
		}
		if rest, err := Read(t.Context(), o, info, int64(len(want)), -1); err != nil || !bytes.Equal(rest, data[len(want):]) {
			t.Errorf("Open(%q) after Get: %d bytes, %v; want the rest, %d bytes", key, len(rest), err, len(data)-len(want))
		}
	}
}

// sameInfo compares Infos, times by instant.
func sameInfo(a, b origin.Info) bool {
	return a.Key == b.Key && a.Size == b.Size && a.ETag == b.ETag && a.ContentType == b.ContentType &&
		a.CacheControl == b.CacheControl && a.Expires == b.Expires && a.ModTime.Equal(b.ModTime)
}
