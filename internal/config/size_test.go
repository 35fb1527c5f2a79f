package config_test

import (
	"testing"

	"github.com/signet-dev/signet/internal/config"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		str  string // String() of the result
	}{
		{"0", 0, "0"},
		{"4096", 4096, "4KiB"},
		{"100", 100, "100"},
		{"100B", 100, "100"},
		{"64KiB", 64 << 10, "64KiB"},
		{"64KB", 64 << 10, "64KiB"},
		{"1536KiB", 1536 << 10, "1536KiB"},
		{"256MiB", 256 << 20, "256MiB"},
		{"10GiB", 10 << 30, "10GiB"},
		{"2TiB", 2 << 40, "2TiB"},
		{"8388607TiB", 8388607 << 40, "8388607TiB"},
	} {
		got, err := config.ParseSize(tc.in)
		if err != nil || int64(got) != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			continue
		}
		if s := got.String(); s != tc.str {
			t.Errorf("ParseSize(%q).String() = %q; want %q", tc.in, s, tc.str)
		}
		if back, err := config.ParseSize(got.String()); err != nil || back != got {
			t.Errorf("ParseSize(%q) = %d, %v; want %d (round trip of %q)", got.String(), back, err, got, tc.in)
		}
	}
}

func TestParseSizeRefuses(t *testing.T) {
	for _, in := range []string{"", "MiB", "-1", "+1", "1.5GiB", "1 MiB", "1mib", "1Mi", "1G", "8388608TiB", "99999999999999999999", "0x10"} {
		if got, err := config.ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, nil; want an error", in, got)
		}
	}
}

func TestSizeText(t *testing.T) {
	s := config.Size(1)
	if err := s.UnmarshalText([]byte("2MiB")); err != nil || s != 2<<20 {
		t.Errorf("UnmarshalText(2MiB) = %d, %v; want %d", s, err, 2<<20)
	}
	if b, err := s.MarshalText(); err != nil || string(b) != "2MiB" {
		t.Errorf("MarshalText() = %q, %v; want 2MiB", b, err)
	}
	if err := s.UnmarshalText([]byte("big")); err == nil || s != 2<<20 {
		t.Errorf("UnmarshalText(big) = %v, leaving %d; want an error, leaving %d", err, s, 2<<20)
	}
}

func TestEdgeCache(t *testing.T) {
	doc := func(origin, cache string) string {
		return "data_dir: /var/lib/signet\ndistributions:\n  - name: media\n    origin: " + origin +
			"\n    behaviors: [{path: '*', public: true}]\n" + cache
	}
	const s3 = "{type: s3, s3: {bucket: media}}"
	const dir = "{type: dir, dir: {path: ./public}}"
	def := config.DefaultCache()
	for _, tc := range []struct {
		name   string
		doc    string
		want   *config.Cache
		hasDir string
	}{
		{"s3 default", doc(s3, ""), &def, ""},
		{"http default", doc("{type: http, http: {url: 'http://127.0.0.1:9'}}", ""), &def, ""},
		{"dir default off", doc(dir, ""), nil, ""},
		{"dir on", doc(dir, "    cache: {memory: 8MiB}\n"), &config.Cache{Enabled: true, Memory: 8 << 20, MaxStale: def.MaxStale, ChunkSize: def.ChunkSize}, ""},
		{"s3 off", doc(s3, "    cache: {enabled: false}\n"), nil, ""},
		{"disk dir default", doc(s3, "    cache: {disk: 1GiB}\n"), nil, "/var/lib/signet/cache/media"},
		{"disk dir set", doc(s3, "    cache: {disk: 1GiB, disk_dir: /srv/c}\n"), nil, "/srv/c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, tc.doc, nil)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got := c.Distributions[0].EdgeCache(c.DataDir)
			if tc.hasDir != "" {
				if got == nil || got.DiskDir != tc.hasDir || got.Disk != 1<<30 {
					t.Fatalf("EdgeCache = %+v; want disk 1GiB in %s", got, tc.hasDir)
				}
				return
			}
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Errorf("EdgeCache = %+v; want %+v", got, tc.want)
			}
		})
	}
}
