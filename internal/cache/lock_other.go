//go:build !unix

package cache

import (
	"fmt"
	"os"
)

// lockDir opens path. Without flock, nothing stops a second cache from
// using the same directory: give each cache its own.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cache: disk dir: %w", err)
	}
	return f, nil
}
