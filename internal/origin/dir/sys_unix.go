//go:build unix

package dir

import (
	"io/fs"
	"os"
	"syscall"
)

// openFlags opens without blocking: a FIFO swapped in after Stat must not
// hang Open (reads of regular files ignore O_NONBLOCK).
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// inode returns fi's inode number, part of the ETag so that a file replaced
// by another of the same size and time still gets a new one.
func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// notFoundErrno reports whether a lookup that failed with errno cannot lead
// to a regular file: a missing element, a file used as a directory, a link
// loop, a name too long, or a socket (ENXIO).
func notFoundErrno(errno syscall.Errno) bool {
	switch errno {
	case syscall.ENOENT, syscall.ENOTDIR, syscall.ELOOP, syscall.ENAMETOOLONG, syscall.ENXIO:
		return true
	}
	return false
}
