//go:build !unix

package dir

import (
	"io/fs"
	"os"
	"syscall"
)

const openFlags = os.O_RDONLY

// inode is 0 where the file system does not report one: the ETag then
// rests on size and modification time alone.
func inode(fs.FileInfo) uint64 { return 0 }

func notFoundErrno(errno syscall.Errno) bool { return errno.Is(fs.ErrNotExist) }
