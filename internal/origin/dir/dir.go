// Package dir is the origin that serves files from a local directory. Every
// file system call goes through an os.Root, so no key can reach outside the
// directory: not with "..", not through a symbolic link pointing outside,
// not with an absolute path. Directories are not objects (there are no
// listings), and neither are devices, pipes or sockets.
package dir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"syscall"

	"github.com/signet-dev/signet/internal/origin"
)

// Origin reads objects from the files under one directory. Its methods are
// safe for concurrent use.
type Origin struct {
	root *os.Root
}

var _ origin.Origin = (*Origin)(nil)

// New opens the directory at path as an origin. The directory must exist;
// it stays open until Close.
func New(path string) (*Origin, error) {
	root, err := os.OpenRoot(path)
	if err != nil {
		return nil, fmt.Errorf("dir origin: %w", err)
	}
	return &Origin{root: root}, nil
}

// Close releases the directory. Readers already open keep working.
func (o *Origin) Close() error {
	return o.root.Close()
}

// Stat describes the regular file key. Its ETag is derived from the file's
// inode, size and modification time, so it changes whenever the file is
// rewritten or replaced; ContentType is "" (the edge guesses from the key).
// A missing key, a directory, a non-regular file and a symbolic link that
// leads outside the directory all give an error matching fs.ErrNotExist.
func (o *Origin) Stat(ctx context.Context, key string) (origin.Info, error) {
	if err := ctx.Err(); err != nil {
		return origin.Info{}, err
	}
	if err := origin.CheckKey(key); err != nil {
		return origin.Info{}, err
	}
	fi, err := o.root.Stat(key)
	if err != nil {
		return origin.Info{}, lookupError(key, err)
	}
	if !fi.Mode().IsRegular() {
		return origin.Info{}, fmt.Errorf("dir origin: %s is not a regular file: %w", key, fs.ErrNotExist)
	}
	return describe(key, fi), nil
}

// Open reads the byte range [off, off+n) of the file version info
// describes. If the file was removed, replaced or rewritten since, the
// error matches origin.ErrChanged. The result is a *Reader, which also
// gives access to the open file for sendfile.
func (o *Origin) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	n, err := origin.CheckOpen(ctx, info, off, n)
	if err != nil {
		return nil, err
	}
	f, err := o.root.OpenFile(info.Key, openFlags, 0)
	if err != nil {
		// A file that is gone is a version that is gone.
		if err = lookupError(info.Key, err); errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %w", err, origin.ErrChanged)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dir origin: %w", err)
	}
	if now := describe(info.Key, fi); !fi.Mode().IsRegular() || now.ETag != info.ETag || now.Size != info.Size {
		f.Close()
		return nil, fmt.Errorf("dir origin: %s: %w", info.Key, origin.ErrChanged)
	}
	return &Reader{ctx: ctx, f: f, off: off, n: n, sr: io.NewSectionReader(f, off, n)}, nil
}

// describe is the Info of the file key whose FileInfo is fi.
func describe(key string, fi fs.FileInfo) origin.Info {
	mtime := fi.ModTime()
	etag := `"` + strconv.FormatUint(inode(fi), 36) + "-" +
		strconv.FormatInt(fi.Size(), 36) + "-" +
		strconv.FormatInt(mtime.UnixNano(), 36) + `"`
	return origin.Info{Key: key, Size: fi.Size(), ModTime: mtime, ETag: etag}
}

// lookupError maps a failed lookup of key under the root. Names that cannot
// lead to a file (a missing element, a file used as a directory, a link
// loop, a name too long, or a path or link that escapes the root, which
// os.Root reports with an error of its own rather than an errno) give an
// error matching fs.ErrNotExist; others, like a permission error, keep
// their own.
func lookupError(key string, err error) error {
	var (
		errno syscall.Errno
		pe    *fs.PathError
	)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("dir origin: %w", err)
	case errors.As(err, &errno):
		if !notFoundErrno(errno) {
			return fmt.Errorf("dir origin: %w", err)
		}
	case errors.Is(err, os.ErrClosed) || !errors.As(err, &pe):
		return fmt.Errorf("dir origin: %w", err)
	}
	return fmt.Errorf("dir origin: %s: %w (%v)", key, fs.ErrNotExist, err)
}

// A Reader reads one byte range of an open file; it is what Open returns.
// Read fails once the context given to Open is done. An adapter that can
// send a file's bytes without copying them (sendfile) may use File and
// Range, or just io.Copy the Reader to a net/http ResponseWriter, which
// goes through WriteTo and reaches sendfile. A Reader is not safe for
// concurrent use.
type Reader struct {
	ctx    context.Context // from Open: a reader lives only as long as its request
	f      *os.File
	off, n int64
	sr     *io.SectionReader
}

// Read reads the next bytes of the range.
func (r *Reader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.sr.Read(p)
}

// WriteTo writes the rest of the range to w. It seeks the file and copies
// from an io.LimitedReader over it, the form in which net/http and net
// hand the copy to sendfile.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	pos, err := r.sr.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	if _, err := r.f.Seek(r.off+pos, io.SeekStart); err != nil {
		return 0, err
	}
	written, err := io.Copy(w, &io.LimitedReader{R: r.f, N: r.n - pos})
	if _, serr := r.sr.Seek(pos+written, io.SeekStart); err == nil {
		err = serr
	}
	return written, err
}

// File returns the open file. Its bytes outside Range are not part of the
// object's range; its offset is the Reader's to change. It stays valid
// until Close.
func (r *Reader) File() *os.File { return r.f }

// Range returns the offset and length of the byte range, in the file, that
// the Reader reads.
func (r *Reader) Range() (off, n int64) { return r.off, r.n }

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }
