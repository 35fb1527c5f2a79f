package dir_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/dir"
	"github.com/signet-dev/signet/internal/origin/origintest"
)

// files writes objects as files under a directory. Put writes a temporary
// file and renames it over the old one, as a deploy would, so a replaced
// file is a new inode.
type files string

func (d files) Put(key string, data []byte) error {
	path := filepath.Join(string(d), filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".put-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func (d files) Remove(key string) error {
	return os.Remove(filepath.Join(string(d), filepath.FromSlash(key)))
}

func newDir(t *testing.T, path string) *dir.Origin {
	t.Helper()
	o, err := dir.New(path)
	if err != nil {
		t.Fatalf("New(%q): %v", path, err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

func TestContract(t *testing.T) {
	origintest.Run(t, func(t *testing.T) (origin.Origin, origintest.Fixture) {
		path := t.TempDir()
		return newDir(t, path), files(path)
	})
}

func TestNewMissing(t *testing.T) {
	for _, path := range []string{filepath.Join(t.TempDir(), "missing"), ""} {
		if o, err := dir.New(path); err == nil {
			o.Close()
			t.Errorf("New(%q) succeeded; want an error", path)
		}
	}
}

// TestNoEscape puts secrets outside the root and links to them from
// inside: none may be read, while a link that stays inside works.
func TestNoEscape(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("outside the root"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "root")
	if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "inside.txt"), []byte("inside"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"passwd":           "/etc/passwd",
		"secret-abs":       secret,
		"secret-rel":       filepath.Join("..", "..", filepath.Base(outside), "secret.txt"),
		"sub/up":           "../../" + filepath.Base(outside),
		"outside-dir":      outside,
		"sub/inside-link":  "../inside.txt",
		"loop":             "loop",
		"sub/to-directory": "..",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	o := newDir(t, root)

	for _, key := range []string{
		"passwd",
		"secret-abs",
		"secret-rel",
		"sub/up/secret.txt",
		"outside-dir/secret.txt",
		"loop",
		"sub/to-directory",
		"sub",
		"inside.txt/x",
	} {
		info, err := o.Stat(t.Context(), key)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) = %+v, %v; want an error matching fs.ErrNotExist", key, info, err)
		}
		// Open with a made-up Info must not read through the link either.
		if rc, err := o.Open(t.Context(), origin.Info{Key: key, Size: 16}, 0, -1); err == nil {
			b, _ := io.ReadAll(rc)
			rc.Close()
			t.Errorf("Open(%q) read %q; want an error", key, b)
		}
	}

	info, err := o.Stat(t.Context(), "sub/inside-link")
	if err != nil {
		t.Fatalf("Stat(sub/inside-link): %v", err)
	}
	rc, err := o.Open(t.Context(), info, 0, -1)
	if err != nil {
		t.Fatalf("Open(sub/inside-link): %v", err)
	}
	defer rc.Close()
	if b, err := io.ReadAll(rc); err != nil || string(b) != "inside" {
		t.Errorf("Open(sub/inside-link) read %q, %v; want %q", b, err, "inside")
	}
}

func TestNotRegular(t *testing.T) {
	root := t.TempDir()
	if err := exec.Command("mkfifo", filepath.Join(root, "fifo")).Run(); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	l, err := net.Listen("unix", filepath.Join(root, "sock"))
	if err != nil {
		t.Skipf("no unix sockets here: %v", err)
	}
	defer l.Close()
	o := newDir(t, root)
	for _, key := range []string{"fifo", "sock"} {
		if _, err := o.Stat(t.Context(), key); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) = %v; want an error matching fs.ErrNotExist", key, err)
		}
		// A pipe swapped in after Stat: Open must neither block nor read it.
		if rc, err := o.Open(t.Context(), origin.Info{Key: key, Size: 1}, 0, -1); !errors.Is(err, origin.ErrChanged) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("Open(%q) = %v; want an error matching origin.ErrChanged", key, err)
		}
	}
}

// TestChangedInPlace rewrites a file in place, keeping its inode: the
// size and modification time still tell the versions apart.
func TestChangedInPlace(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "f")
	if err := os.WriteFile(path, []byte("version one"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := newDir(t, root)
	info, err := o.Stat(t.Context(), "f")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("version two"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// The same size; move the time on so that a coarse clock cannot hide the
	// rewrite.
	if err := os.Chtimes(path, fi.ModTime(), info.ModTime.Add(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Open(t.Context(), info, 0, -1); !errors.Is(err, origin.ErrChanged) {
		t.Errorf("Open after an in-place rewrite = %v; want an error matching origin.ErrChanged", err)
	}
}

// TestReader checks what an adapter that sends files itself relies on:
// File and Range name the bytes, and WriteTo copies exactly the range
// from wherever Read left off.
func TestReader(t *testing.T) {
	root := t.TempDir()
	data := []byte("0123456789abcdefghijklmnopqrstuvwxyz")
	if err := os.WriteFile(filepath.Join(root, "f"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	o := newDir(t, root)
	info, err := o.Stat(t.Context(), "f")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		off, n    int64
		readFirst int
		wantOff   int64
		wantN     int64
	}{
		{"whole", 0, -1, 0, 0, int64(len(data))},
		{"middle", 10, 10, 0, 10, 10},
		{"middle-after-read", 10, 10, 3, 10, 10},
		{"to-end-after-read", 30, -1, 2, 30, 6},
		{"past-the-end", 30, 100, 0, 30, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := o.Open(t.Context(), info, tc.off, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			r, ok := rc.(*dir.Reader)
			if !ok {
				t.Fatalf("Open returned %T; want *dir.Reader", rc)
			}
			if off, n := r.Range(); off != tc.wantOff || n != tc.wantN {
				t.Errorf("Range() = %d, %d; want %d, %d", off, n, tc.wantOff, tc.wantN)
			}
			if r.File() == nil {
				t.Fatal("File() = nil")
			}
			first := make([]byte, tc.readFirst)
			if _, err := io.ReadFull(r, first); err != nil {
				t.Fatal(err)
			}
			var rest bytes.Buffer
			if _, err := r.WriteTo(&rest); err != nil {
				t.Fatalf("WriteTo: %v", err)
			}
			want := data[tc.wantOff : tc.wantOff+tc.wantN]
			if got := append(first, rest.Bytes()...); !bytes.Equal(got, want) {
				t.Errorf("Read then WriteTo = %q; want %q", got, want)
			}
			if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Errorf("Read after WriteTo = %d, %v; want 0, EOF", n, err)
			}
		})
	}
}
