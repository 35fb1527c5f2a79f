//go:build unix

package cache

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// flock takes an exclusive flock on f, the file at path, so that two
// caches (in one process or two) never share a disk directory: each
// accounts for its files alone and cleans the temporary files at start.
// The kernel releases the lock when the process dies, even by SIGKILL.
func flock(f *os.File, path string) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s", ErrDirInUse, path)
		}
		return fmt.Errorf("cache: lock %s: %w", path, err)
	}
	return nil
}
