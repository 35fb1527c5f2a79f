package cache

import (
	"container/list"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The disk tier keeps one file per chunk:
//
//	<dir>/SIGNET-CACHE              marks dir as a disk tier's
//	<dir>/lock                      held (flock) while a Cache uses dir
//	<dir>/tmp/                      files being written; emptied by New
//	<dir>/v1/<ab>/<hash>-<index>    a chunk: header, then the bytes
//
// hash is the hex SHA-256 of the object version's identity (distribution,
// key, ETag, size) and ab its first two digits. A file is written under
// tmp, synced, then renamed into place, so a name only ever holds a whole
// file. The header repeats the identity and carries CRC-32C checksums of
// itself and of the bytes; a file is read whole and checked before any
// byte of it is served, and one that fails (a flipped byte, a truncation,
// a file under the wrong name) is deleted and its chunk fetched again.
//
// Header layout, integers big-endian:
//
//	magic     8 bytes "signetc1"
//	idLen     uint32
//	identity  idLen bytes (see chunkIdentity)
//	dataLen   uint64
//	dataCRC   uint32, CRC-32C of the bytes
//	headerCRC uint32, CRC-32C of everything before it
const diskMagic = "signetc1"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt reports a chunk file that does not hold what its name says.
var errCorrupt = errors.New("cache: corrupt chunk file")

// diskKey names one chunk file.
type diskKey struct {
	obj [32]byte // SHA-256 of the object version's identity
	idx int64
}

type diskEntry struct {
	key  diskKey
	size int64 // of the whole file
}

// disk is the byte-bounded disk tier. Its methods are safe for concurrent
// use. The bound counts every file's size, header included, and the size
// of each file being written from before its first byte, so the files
// under dir never add up to more than max.
type disk struct {
	dir string
	max int64
	log *slog.Logger

	lock *os.File // held for the life of the tier

	mu      sync.Mutex
	used    int64                     // bytes of indexed files and reservations
	index   map[diskKey]*list.Element // values *diskEntry
	lru     list.List                 // front: most recently used
	writing map[diskKey]bool          // files being written
}

// diskMarker names the file that marks a directory as a disk tier's: New
// refuses a directory that has files but not this one, rather than delete
// what is in its tmp.
const diskMarker = "SIGNET-CACHE"

// openDisk opens or creates the tier in dir: it takes the directory's lock,
// deletes what an interrupted write left in tmp, and rebuilds the index
// from the chunk files, oldest first by modification time, evicting down
// to max if the bound shrank.
func openDisk(dir string, max int64, log *slog.Logger) (*disk, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: disk dir: %w", err)
	}
	marker := filepath.Join(dir, diskMarker)
	if _, err := os.Stat(marker); errors.Is(err, fs.ErrNotExist) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("cache: disk dir: %w", err)
		}
		if len(entries) > 0 {
			return nil, fmt.Errorf("cache: disk dir %s is not empty and holds no %s: not a cache's directory", dir, diskMarker)
		}
		if err := os.WriteFile(marker, []byte("signet cache, format 1\n"), 0o600); err != nil {
			return nil, fmt.Errorf("cache: disk dir: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "v1"), 0o700); err != nil {
		return nil, fmt.Errorf("cache: disk dir: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, "lock"))
	if err != nil {
		return nil, err
	}
	d := &disk{dir: dir, max: max, log: log, lock: lock, index: map[diskKey]*list.Element{}, writing: map[diskKey]bool{}}
	if err := d.load(); err != nil {
		lock.Close()
		return nil, err
	}
	return d, nil
}

// lockDir opens path, the lock file of a disk directory, and locks it with
// flock.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cache: disk dir: %w", err)
	}
	if err := flock(f, path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (d *disk) load() error {
	tmp := filepath.Join(d.dir, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("cache: clean %s: %w", tmp, err)
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return fmt.Errorf("cache: disk dir: %w", err)
	}
	type found struct {
		e     *diskEntry
		mtime time.Time
	}
	var files []found
	root := filepath.Join(d.dir, "v1")
	fans, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("cache: disk dir: %w", err)
	}
	for _, fan := range fans {
		if !fan.IsDir() {
			continue
		}
		names, err := os.ReadDir(filepath.Join(root, fan.Name()))
		if err != nil {
			return fmt.Errorf("cache: disk dir: %w", err)
		}
		for _, de := range names {
			path := filepath.Join(root, fan.Name(), de.Name())
			k, ok := parseChunkName(fan.Name(), de.Name())
			fi, err := de.Info()
			if err != nil {
				continue // removed meanwhile
			}
			if !ok || !fi.Mode().IsRegular() {
				d.log.Warn("stray file in cache dir removed", "file", path)
				os.RemoveAll(path)
				continue
			}
			files = append(files, found{&diskEntry{key: k, size: fi.Size()}, fi.ModTime()})
		}
	}
	slices.SortFunc(files, func(a, b found) int { return a.mtime.Compare(b.mtime) })
	for _, f := range files {
		d.index[f.e.key] = d.lru.PushFront(f.e)
		d.used += f.e.size
	}
	for d.used > d.max {
		d.evict(d.lru.Back())
	}
	return nil
}

// close releases the directory's lock.
func (d *disk) close() error { return d.lock.Close() }

func (d *disk) path(k diskKey) string {
	h := hex.EncodeToString(k.obj[:])
	return filepath.Join(d.dir, "v1", h[:2], h+"-"+strconv.FormatInt(k.idx, 10))
}

// parseChunkName returns the key a chunk file named name in the fan-out
// directory fan stands for.
func parseChunkName(fan, name string) (diskKey, bool) {
	var k diskKey
	h, idx, ok := strings.Cut(name, "-")
	if !ok || len(h) != 64 || h[:2] != fan {
		return k, false
	}
	if _, err := hex.Decode(k.obj[:], []byte(h)); err != nil || strings.ToLower(h) != h {
		return k, false
	}
	n, err := strconv.ParseInt(idx, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != idx {
		return k, false
	}
	k.idx = n
	return k, true
}

// has reports whether chunk k has a file (not whether the file is sound).
func (d *disk) has(k diskKey) bool {
	d.mu.Lock()
	_, ok := d.index[k]
	d.mu.Unlock()
	return ok
}

// get reads chunk k, checking that its file holds length bytes for
// identity. A file that fails the check is deleted; get then reports a
// miss, as it does when there is no file.
func (d *disk) get(k diskKey, identity []byte, length int64) ([]byte, bool) {
	d.mu.Lock()
	el := d.index[k]
	if el == nil {
		d.mu.Unlock()
		return nil, false
	}
	d.lru.MoveToFront(el)
	size := el.Value.(*diskEntry).size
	d.mu.Unlock()

	b, err := readChunk(d.path(k), size)
	if err == nil {
		var data []byte
		if data, err = decodeChunk(b, identity, length); err == nil {
			return data, true
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		d.drop(el, false) // evicted meanwhile, or removed behind our back
		return nil, false
	}
	d.log.Warn("cache file discarded", "file", d.path(k), "reason", err.Error())
	d.drop(el, true)
	return nil, false
}

// readChunk reads the file at path, which the index says has size bytes.
func readChunk(path string, size int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() != size {
		return nil, fmt.Errorf("%w: %d bytes, indexed with %d", errCorrupt, fi.Size(), size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%w: %w", errCorrupt, err)
	}
	return b, nil
}

// drop removes el from the index if it is still there, and with remove
// also deletes its file.
func (d *disk) drop(el *list.Element, remove bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := el.Value.(*diskEntry)
	if d.index[e.key] != el {
		return
	}
	if remove {
		d.evict(el)
		return
	}
	delete(d.index, e.key)
	d.lru.Remove(el)
	d.used -= e.size
}

// evict deletes the file of el and forgets it. d.mu is held.
func (d *disk) evict(el *list.Element) {
	e := el.Value.(*diskEntry)
	if err := os.Remove(d.path(e.key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		d.log.Warn("cache file not removed", "file", d.path(e.key), "reason", err.Error())
	}
	delete(d.index, e.key)
	d.lru.Remove(el)
	d.used -= e.size
}

// put writes data as chunk k for identity, unless the chunk is there or
// being written, or cannot fit. It evicts the least recently used files
// to make room before it writes.
func (d *disk) put(k diskKey, identity, data []byte) {
	header := encodeHeader(identity, data)
	size := int64(len(header) + len(data))
	d.mu.Lock()
	if d.index[k] != nil || d.writing[k] {
		d.mu.Unlock()
		return
	}
	for d.used+size > d.max && d.lru.Len() > 0 {
		d.evict(d.lru.Back())
	}
	if d.used+size > d.max {
		d.mu.Unlock()
		return // larger than the tier, or the rest is being written
	}
	d.used += size
	d.writing[k] = true
	d.mu.Unlock()

	err := d.write(k, header, data)

	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.writing, k)
	if err != nil {
		d.used -= size
		d.log.Warn("cache file not written", "file", d.path(k), "reason", err.Error())
		return
	}
	d.index[k] = d.lru.PushFront(&diskEntry{key: k, size: size})
}

// write writes a chunk file atomically: a temporary file, synced, renamed
// into place.
func (d *disk) write(k diskKey, header, data []byte) error {
	path := d.path(k)
	f, err := os.CreateTemp(filepath.Join(d.dir, "tmp"), filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(header)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if err = os.Mkdir(filepath.Dir(path), 0o700); errors.Is(err, fs.ErrExist) {
			err = nil
		}
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// usage returns the bytes the tier accounts for and its number of files.
func (d *disk) usage() (int64, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.used, d.lru.Len()
}

func encodeHeader(identity, data []byte) []byte {
	h := make([]byte, 0, len(diskMagic)+4+len(identity)+8+4+4)
	h = append(h, diskMagic...)
	h = binary.BigEndian.AppendUint32(h, uint32(len(identity)))
	h = append(h, identity...)
	h = binary.BigEndian.AppendUint64(h, uint64(len(data)))
	h = binary.BigEndian.AppendUint32(h, crc32.Checksum(data, castagnoli))
	return binary.BigEndian.AppendUint32(h, crc32.Checksum(h, castagnoli))
}

// decodeChunk checks a whole chunk file b and returns its bytes: the magic,
// the header's checksum, the identity, the length and the bytes' checksum
// must all match.
func decodeChunk(b, identity []byte, length int64) ([]byte, error) {
	fixed := len(diskMagic) + 4
	if len(b) < fixed || string(b[:len(diskMagic)]) != diskMagic {
		return nil, fmt.Errorf("%w: no header", errCorrupt)
	}
	idLen := int64(binary.BigEndian.Uint32(b[len(diskMagic):]))
	end := int64(fixed) + idLen + 8 + 4
	if int64(len(b)) < end+4 {
		return nil, fmt.Errorf("%w: short header", errCorrupt)
	}
	if got := binary.BigEndian.Uint32(b[end:]); got != crc32.Checksum(b[:end], castagnoli) {
		return nil, fmt.Errorf("%w: header checksum", errCorrupt)
	}
	if string(b[fixed:int64(fixed)+idLen]) != string(identity) {
		return nil, fmt.Errorf("%w: holds another chunk", errCorrupt)
	}
	dataLen := binary.BigEndian.Uint64(b[int64(fixed)+idLen:])
	data := b[end+4:]
	if dataLen != uint64(length) || int64(len(data)) != length {
		return nil, fmt.Errorf("%w: %d bytes, want %d", errCorrupt, len(data), length)
	}
	if got := binary.BigEndian.Uint32(b[end-4:]); got != crc32.Checksum(data, castagnoli) {
		return nil, fmt.Errorf("%w: data checksum", errCorrupt)
	}
	return data, nil
}
