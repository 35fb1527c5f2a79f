package server_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cache"
	"github.com/signet-dev/signet/internal/config"
	"github.com/signet-dev/signet/internal/server"
)

// twoDistributions is a config, in dir, whose second distribution has an
// edge cache with a disk tier in dir/disk and a behavior with a file
// origin path, and whose one listener serves TLS.
func twoDistributions(t *testing.T, dir string) *config.Config {
	t.Helper()
	doc := fmt.Sprintf(`data_dir: %[1]s/data
listeners:
  - address: 127.0.0.1:0
    tls: {cert_file: %[1]s/tls.pem, key_file: %[1]s/tls.pem}
key_groups:
  main: [{id: K2JCJMDEHXQW5F, public_key_file: %[1]s/main.pem}]
distributions:
  - name: media
    hosts: [media.example.com]
    origin: {type: dir, dir: {path: %[1]s/media}}
    behaviors: [{path: '*', key_groups: [main]}]
  - name: videos
    origin: {type: dir, dir: {path: %[1]s/videos}}
    cache: {disk: 1GiB, disk_dir: %[1]s/disk}
    behaviors:
      - {path: '/free/*', public: true}
      - {path: '*', key_groups: [main], origin_path: media}
`, dir)
	c, err := config.LoadData([]byte(doc), dir, getenv)
	if err != nil {
		t.Fatalf("LoadData: %v\n%s", err, doc)
	}
	if skip := provision(t, c, dir); skip != "" {
		t.Fatal(skip)
	}
	if err := c.CheckFiles(); err != nil {
		t.Fatalf("CheckFiles: %v", err)
	}
	return c
}

// TestNewNamesWhere checks that New's errors say which distribution,
// behavior or listener a component refused.
func TestNewNamesWhere(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(c *config.Config, dir string)
		want  string
	}{
		{"origin", func(c *config.Config, dir string) {
			os.RemoveAll(filepath.Join(dir, "videos"))
		}, "distributions[1] (videos): origin: dir origin: "},
		{"cache", func(c *config.Config, dir string) {
			c.Distributions[1].Cache.ChunkSize = 1
		}, "distributions[1] (videos): cache: cache: ChunkSize: 1 is outside 4KiB to 64MiB"},
		{"behavior", func(c *config.Config, dir string) {
			c.Limits.VerifiedLinks = -1
		}, "distributions[0] (media): behaviors[0] (*): cfsign: cache size -1 is negative"},
		{"edge", func(c *config.Config, dir string) {
			c.Distributions[1].Behaviors[1].OriginPath = "/media"
		}, `distributions[1] (videos): behaviors[1] (*): origin path: object keys do not start with '/': write "media"`},
		{"listener", func(c *config.Config, dir string) {
			os.Remove(filepath.Join(dir, "tls.pem"))
		}, "listeners[0]: tls: open "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := twoDistributions(t, dir)
			tc.spoil(c, dir)
			_, err := server.New(t.Context(), c, server.Options{})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("New() = %v; want an error starting %q", err, tc.want)
			}
		})
	}
}

// TestNewReleasesOnFailure checks that a New that fails releases what it
// opened: the edge cache's disk directory, which a cache locks, can be
// used again at once.
func TestNewReleasesOnFailure(t *testing.T) {
	dir := t.TempDir()
	c := twoDistributions(t, dir)
	tls := c.Listeners[0].TLS.CertFile
	c.Listeners[0].TLS.CertFile = filepath.Join(dir, "missing.pem")
	if _, err := server.New(t.Context(), c, server.Options{}); err == nil || !strings.HasPrefix(err.Error(), "listeners[0]") {
		t.Fatalf("New() with a missing certificate = %v; want a listeners[0] error", err)
	}
	c.Listeners[0].TLS.CertFile = tls
	s, err := server.New(t.Context(), c, server.Options{})
	if errors.Is(err, cache.ErrDirInUse) {
		t.Fatalf("New() after a failed New = %v: the failed one kept the disk dir", err)
	}
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	s.Close()
}
