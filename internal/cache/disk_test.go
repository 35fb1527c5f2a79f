package cache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cache"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/dir"
	"github.com/signet-dev/signet/internal/origin/origintest"
)

// chunkFiles returns the chunk files under a disk tier's directory, and
// its temporary files, by name, and the sum of their sizes.
func chunkFiles(t testing.TB, diskDir string) ([]string, int64) {
	t.Helper()
	var paths []string
	var total int64
	for _, sub := range []string{"v1", "tmp"} {
		err := filepath.WalkDir(filepath.Join(diskDir, sub), func(path string, d fs.DirEntry, err error) error {
			var fi fs.FileInfo
			if err == nil && !d.IsDir() {
				fi, err = d.Info()
			}
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return nil // not made yet, or removed by a cache at work
			case err != nil || d.IsDir():
				return err
			}
			paths = append(paths, path)
			total += fi.Size()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(paths)
	return paths, total
}

// putObjects stores n objects of size bytes, named obj-<i>, and returns
// their contents.
func putObjects(o *origintest.Mem, n, size int) map[string][]byte {
	objs := map[string][]byte{}
	for i := range n {
		key := fmt.Sprintf("obj-%d", i)
		objs[key] = origintest.Content(key, size)
		o.Put(key, objs[key])
	}
	return objs
}

// readRandomly reads objects at random through c from 8 goroutines, n
// each, checking every read and calling check with c's Stats after it.
func readRandomly(t *testing.T, c *cache.Cache, objs map[string][]byte, n int, check func(cache.Stats)) {
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), uint64(n)))
			for range n {
				key := fmt.Sprintf("obj-%d", r.IntN(len(objs)))
				info, err := c.Stat(t.Context(), key)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := origintest.Read(t.Context(), c, info, 0, -1)
				if err != nil || !bytes.Equal(got, objs[key]) {
					t.Errorf("read %s: %d bytes, %v; want its %d bytes", key, len(got), err, len(objs[key]))
					return
				}
				check(c.Stats())
			}
		})
	}
	wg.Wait()
}

// TestMemoryBound reads far more than the memory tier holds, from 8
// goroutines, while another checks the tier's weight over and over: it
// never exceeds MemoryBytes.
func TestMemoryBound(t *testing.T) {
	const bound = 256 << 10
	o := origintest.NewMem()
	objs := putObjects(o, 40, 40<<10) // 1.6 MB, 3 chunks each
	c := newCache(t, o, cache.Config{MemoryBytes: bound, ChunkSize: 16 << 10, TTL: cache.TTL{Default: time.Hour, Max: time.Hour}})
	stop := make(chan struct{})
	var checker sync.WaitGroup
	var maxSeen uint64
	checker.Go(func() {
		for {
			maxSeen = max(maxSeen, c.Stats().MemoryBytes)
			select {
			case <-stop:
				return
			default:
			}
		}
	})
	readRandomly(t, c, objs, 50, func(s cache.Stats) {
		if s.MemoryBytes > bound {
			t.Errorf("memory tier weighs %d bytes; want at most %d", s.MemoryBytes, bound)
		}
	})
	close(stop)
	checker.Wait()
	s := c.Stats()
	t.Logf("memory tier: %d bytes in %d chunks (bound %d), most seen %d; origin read %d bytes",
		s.MemoryBytes, s.MemoryChunks, bound, maxSeen, o.Bytes.Load())
	if maxSeen > bound {
		t.Errorf("memory tier weighed up to %d bytes; want at most %d", maxSeen, bound)
	}
	if s.MemoryBytes == 0 || o.Bytes.Load() <= bound {
		t.Errorf("memory tier %d bytes, origin read %d; want the tier in use and evicting", s.MemoryBytes, o.Bytes.Load())
	}
}

// TestDiskBound reads far more than the disk tier holds, concurrently: the
// tier's account never exceeds DiskBytes, and when the writes settle the
// files on disk add up to that account.
func TestDiskBound(t *testing.T) {
	const bound = 300 << 10
	o := origintest.NewMem()
	objs := putObjects(o, 50, 40<<10) // 2 MB
	diskDir := t.TempDir()
	c := newCache(t, o, cache.Config{MemoryBytes: 32 << 10, ChunkSize: 16 << 10, DiskDir: diskDir, DiskBytes: bound})
	readRandomly(t, c, objs, 40, func(s cache.Stats) {
		if s.DiskBytes > bound {
			t.Errorf("disk tier accounts for %d bytes; want at most %d", s.DiskBytes, bound)
		}
	})
	settle(t, c)
	s := c.Stats()
	files, total := chunkFiles(t, diskDir)
	t.Logf("disk tier: %d bytes in %d files (bound %d); origin read %d bytes", s.DiskBytes, s.DiskFiles, bound, o.Bytes.Load())
	if total != s.DiskBytes || len(files) != s.DiskFiles {
		t.Errorf("files on disk: %d bytes in %d; want the %d bytes in %d files the tier accounts for", total, len(files), s.DiskBytes, s.DiskFiles)
	}
	if total > bound || total < bound/2 {
		t.Errorf("files on disk add up to %d bytes; want at most %d, and the tier in use", total, bound)
	}
}

// TestRestart closes a cache and opens another on its directory: the
// chunks are served from disk with no origin read, what an interrupted run
// left behind is cleaned up, and a smaller bound evicts down to it.
func TestRestart(t *testing.T) {
	o := origintest.NewMem()
	objs := putObjects(o, 5, 100<<10)
	diskDir := t.TempDir()
	cfg := cache.Config{MemoryBytes: 1 << 20, ChunkSize: 32 << 10, DiskDir: diskDir, DiskBytes: 10 << 20}
	infos := map[string]origin.Info{}
	first := newCache(t, o, cfg)
	for key, data := range objs {
		infos[key] = mustStat(t, first, key)
		mustRead(t, t.Context(), first, infos[key], 0, -1, data)
	}
	settle(t, first)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	files, total := chunkFiles(t, diskDir)
	if len(files) != 5*4 {
		t.Fatalf("%d chunk files after reading 5 objects of 4 chunks; want 20", len(files))
	}
	// Leftovers of a killed run: a temporary file and a stray one.
	for _, p := range []string{filepath.Join(diskDir, "tmp", "partial.123"), filepath.Join(diskDir, "v1", "zz", "junk")} {
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, []byte("leftover"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	opens := o.Opens.Load()
	o.FailOpen(errors.New("origin down"))
	second := newCache(t, o, cfg)
	if s := second.Stats(); s.DiskFiles != 20 || s.DiskBytes != total {
		t.Errorf("after restart: %d files, %d bytes; want 20, %d", s.DiskFiles, s.DiskBytes, total)
	}
	if after, _ := chunkFiles(t, diskDir); !slices.Equal(after, files) {
		t.Errorf("after restart the files are %q; want the chunks alone, %q", after, files)
	}
	for key, data := range objs {
		out, _ := outcomeOf(t, func(ctx context.Context) { mustRead(t, ctx, second, infos[key], 0, -1, data) })
		if out != origin.Hit {
			t.Errorf("read %s after restart: %v; want Hit", key, out)
		}
	}
	if got := o.Opens.Load(); got != opens {
		t.Errorf("origin Opens after restart = %d; want %d (no new one)", got, opens)
	}
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}

	cfg.DiskBytes = total / 2
	third := newCache(t, o, cfg)
	_, now := chunkFiles(t, diskDir)
	if s := third.Stats(); s.DiskBytes > cfg.DiskBytes || now != s.DiskBytes {
		t.Errorf("after restart with half the bound: %d bytes accounted, %d on disk; want at most %d, equal", s.DiskBytes, now, cfg.DiskBytes)
	}
}

// TestCorruptFile damages chunk files in several ways: each damaged chunk
// is detected when read back, never served, fetched again from the origin
// (that chunk alone), and rewritten.
func TestCorruptFile(t *testing.T) {
	const chunk = 16 << 10
	tests := []struct {
		name   string
		damage func(t *testing.T, chunk0, chunk1 string)
	}{
		{"flip-data-byte", func(t *testing.T, c0, _ string) { flipByte(t, c0, -1) }},
		{"flip-first-data-byte", func(t *testing.T, c0, _ string) { flipByte(t, c0, -chunk) }},
		{"flip-header-byte", func(t *testing.T, c0, _ string) { flipByte(t, c0, 12) }},
		{"flip-magic", func(t *testing.T, c0, _ string) { flipByte(t, c0, 0) }},
		{"truncated", func(t *testing.T, c0, _ string) { truncate(t, c0, -1) }},
		{"header-only", func(t *testing.T, c0, _ string) { truncate(t, c0, -chunk) }},
		{"empty", func(t *testing.T, c0, _ string) { truncate(t, c0, 0) }},
		{"appended", func(t *testing.T, c0, _ string) {
			f, err := os.OpenFile(c0, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte("x"))
			f.Close()
		}},
		{"other-chunk-under-its-name", func(t *testing.T, c0, c1 string) {
			b, err := os.ReadFile(c1)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(c0, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := origintest.NewMem()
			data := origintest.Content(tc.name, 2*chunk)
			o.Put("a.bin", data)
			diskDir := t.TempDir()
			cfg := cache.Config{MemoryBytes: 1 << 20, ChunkSize: chunk, DiskDir: diskDir, DiskBytes: 1 << 20}
			first := newCache(t, o, cfg)
			info := mustStat(t, first, "a.bin")
			mustRead(t, t.Context(), first, info, 0, -1, data)
			settle(t, first)
			first.Close()
			files, _ := chunkFiles(t, diskDir)
			if len(files) != 2 || !strings.HasSuffix(files[0], "-0") || !strings.HasSuffix(files[1], "-1") {
				t.Fatalf("chunk files %q; want one for chunk 0, one for chunk 1", files)
			}
			tc.damage(t, files[0], files[1])

			second := newCache(t, o, cfg)
			mustRead(t, t.Context(), second, info, 0, -1, data)
			if o, b := o.Opens.Load(), o.Bytes.Load(); o != 2 || b != 3*chunk {
				t.Errorf("origin Opens, bytes = %d, %d; want 2, %d (the damaged chunk again, alone)", o, b, 3*chunk)
			}
			settle(t, second)
			second.Close()

			o.FailOpen(errors.New("origin down"))
			third := newCache(t, o, cfg)
			mustRead(t, t.Context(), third, info, 0, -1, data) // from the rewritten file
		})
	}
}

// flipByte inverts the byte at off in the file at path; a negative off
// counts from the end.
func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off += int64(len(b))
	}
	b[off] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// truncate cuts the file at path to size bytes; a negative size counts
// from the end.
func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if size < 0 {
		size += fi.Size()
	}
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func TestDirInUse(t *testing.T) {
	diskDir := t.TempDir()
	cfg := cache.Config{MemoryBytes: 1 << 20, DiskDir: diskDir, DiskBytes: 1 << 20}
	newCache(t, origintest.NewMem(), cfg)
	if c, err := cache.New(origintest.NewMem(), cache.Config{Name: "b", MemoryBytes: 1 << 20, DiskDir: diskDir, DiskBytes: 1 << 20}, nil); !errors.Is(err, cache.ErrDirInUse) {
		if c != nil {
			c.Close()
		}
		t.Errorf("New on a directory in use = %v; want ErrDirInUse", err)
	}
}

// TestDirNotACache refuses a directory that holds files but is not a
// cache's, and leaves its files alone.
func TestDirNotACache(t *testing.T) {
	diskDir := t.TempDir()
	keep := filepath.Join(diskDir, "tmp", "important.txt")
	os.MkdirAll(filepath.Dir(keep), 0o700)
	if err := os.WriteFile(keep, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := cache.New(origintest.NewMem(), cache.Config{Name: "d", MemoryBytes: 1 << 20, DiskDir: diskDir, DiskBytes: 1 << 20}, nil); err == nil {
		c.Close()
		t.Errorf("New on a directory with other files succeeded; want an error")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the directory's file: %v; want it kept", err)
	}
}

// Environment of the crash test's helper process.
const (
	crashDiskEnv   = "SIGNET_CACHE_CRASH_DISK"
	crashOriginEnv = "SIGNET_CACHE_CRASH_ORIGIN"
)

const (
	crashObjects = 24
	crashSize    = 1<<20 + 123
)

// TestCrashSafety kills a process with SIGKILL while its cache writes chunk
// files, three times over the same directory. Each time, a new Cache on
// that directory, over an origin that now fails every read, serves each
// object either whole and correct or not at all (an error after a correct
// prefix): never a wrong byte. Then, with the origin back, it serves every
// object correctly.
func TestCrashSafety(t *testing.T) {
	if os.Getenv(crashDiskEnv) != "" {
		crashHelper(t)
		return
	}
	src, diskDir := t.TempDir(), t.TempDir()
	want := map[string][]byte{}
	for i := range crashObjects {
		key := fmt.Sprintf("obj-%d.bin", i)
		want[key] = origintest.Content(key, crashSize)
		if err := os.WriteFile(filepath.Join(src, key), want[key], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := dir.New(src)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for round := range 3 {
		leftover := killMidWrite(t, src, diskDir)
		failing := &failingOpen{Origin: d}
		c := newCache(t, failing, crashConfig(diskDir))
		s := c.Stats()
		if tmp, _ := os.ReadDir(filepath.Join(diskDir, "tmp")); len(tmp) != 0 {
			t.Errorf("round %d: %d temporary files after New; want none", round, len(tmp))
		}
		whole := 0
		for key, data := range want {
			info := mustStat(t, d, key)
			got, err := origintest.Read(t.Context(), c, info, 0, -1)
			switch {
			case err == nil && bytes.Equal(got, data):
				whole++
			case err == nil:
				t.Errorf("round %d: %s: read %d bytes that differ from the object", round, key, len(got))
			case !bytes.HasPrefix(data, got):
				t.Errorf("round %d: %s: read %d bytes, then %v; the bytes differ from the object's", round, key, len(got), err)
			}
		}
		t.Logf("round %d: killed with %d temporary files; restarted with %d chunk files (%d bytes), %d of %d objects whole from disk",
			round, leftover, s.DiskFiles, s.DiskBytes, whole, len(want))
		if s.DiskFiles == 0 {
			t.Errorf("round %d: no chunk file survived; want the helper's completed writes", round)
		}
		failing.up.Store(true)
		for key, data := range want {
			mustRead(t, t.Context(), c, mustStat(t, d, key), 0, -1, data)
		}
		settle(t, c)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func crashConfig(diskDir string) cache.Config {
	return cache.Config{Name: "crash", MemoryBytes: 1 << 20, ChunkSize: 64 << 10, DiskDir: diskDir, DiskBytes: 8 << 20}
}

// killMidWrite runs the helper on diskDir until it is writing a chunk file
// (a temporary file exists) after completing some, kills it with SIGKILL,
// and returns how many temporary files it left.
func killMidWrite(t *testing.T, src, diskDir string) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSafety$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDiskEnv+"="+diskDir, crashOriginEnv+"="+src)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(diskDir, "tmp")
	start := time.Now()
	for {
		files, _ := chunkFiles(t, diskDir)
		if temps, _ := os.ReadDir(tmp); len(temps) > 0 && len(files) > 40 {
			break
		}
		if time.Since(start) > time.Minute {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the helper wrote no chunk file in a minute; its output:\n%s", out.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended with %v, not by SIGKILL; its output:\n%s", err, out.String())
	}
	temps, _ := os.ReadDir(tmp)
	return len(temps)
}

// crashHelper reads every object through a cache over and over, its disk
// tier too small for all of them, so that it writes chunk files until it
// is killed.
func crashHelper(t *testing.T) {
	d, err := dir.New(os.Getenv(crashOriginEnv))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.New(d, crashConfig(os.Getenv(crashDiskEnv)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; ; i++ {
		key := fmt.Sprintf("obj-%d.bin", i%crashObjects)
		info, err := c.Stat(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := c.Open(ctx, info, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
}

// failingOpen is an origin whose reads fail until up is set.
type failingOpen struct {
	origin.Origin
	up atomic.Bool
}

func (f *failingOpen) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	if f.up.Load() {
		return f.Origin.Open(ctx, info, off, n)
	}
	return nil, errors.New("origin down")
}
