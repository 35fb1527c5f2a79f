package config_test

import (
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/config"
)

// FuzzParse checks that no document makes Parse, LoadData, Validate or
// Warnings panic, that Parse and LoadData return a config or problems but
// not both, and that every problem is a *Problem with a message. LoadData
// must report every problem Parse does, and nothing more at or under the
// field of one of them. The seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(config.Example()))
	f.Add([]byte(minimal))
	getenv := env(map[string]string{"HOME": "/root", "EMPTY": "", "SECRET": "s3cr3t"})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse(data, getenv)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse = %v, %v; want exactly one of a config and an error", c, err)
		}
		check := func(what string, err error) {
			t.Helper()
			if err == nil {
				return
			}
			problems := config.Problems(err)
			// Every leaf of the joined error is a Problem.
			var leaves int
			var count func(error)
			count = func(e error) {
				if u, ok := e.(interface{ Unwrap() []error }); ok {
					for _, e := range u.Unwrap() {
						count(e)
					}
					return
				}
				leaves++
			}
			count(err)
			if len(problems) == 0 || len(problems) != leaves {
				t.Fatalf("%s: %d problems in %d errors: %v", what, len(problems), leaves, err)
			}
			for _, p := range problems {
				if p.Msg == "" || p.Line < 0 {
					t.Fatalf("%s: malformed problem %#v", what, p)
				}
			}
		}
		check("Parse", err)
		lc, lerr := config.LoadData(data, "", getenv)
		if (lc == nil) == (lerr == nil) {
			t.Fatalf("LoadData = %v, %v; want exactly one of a config and an error", lc, lerr)
		}
		check("LoadData", lerr)
		loaded := map[string]bool{}
		for _, p := range config.Problems(lerr) {
			loaded[p.Error()] = true
		}
		decoded := map[string]bool{}
		for _, p := range config.Problems(err) {
			if !loaded[p.Error()] {
				t.Fatalf("LoadData does not report Parse's problem %q: %v", p, lerr)
			}
			decoded[p.Error()] = true
		}
		for _, q := range config.Problems(lerr) {
			for _, p := range config.Problems(err) {
				if !decoded[q.Error()] && p.Path != "" && (q.Path == p.Path || strings.HasPrefix(q.Path, p.Path+".") || strings.HasPrefix(q.Path, p.Path+"[")) {
					t.Fatalf("LoadData reports %q under Parse's %q", q, p)
				}
			}
		}
		if c == nil {
			return
		}
		verr := c.Validate()
		check("Validate", verr)
		for _, w := range c.Warnings() {
			if w.Msg == "" {
				t.Fatalf("Warnings: empty message in %#v", w)
			}
		}
	})
}

// FuzzParseCARoots checks that no input makes ParseCARoots panic and that
// it returns a pool or an error, not both. The seed corpus is in
// testdata/fuzz/FuzzParseCARoots.
func FuzzParseCARoots(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("# comment\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pool, err := config.ParseCARoots(data)
		if (pool == nil) == (err == nil) {
			t.Fatalf("ParseCARoots = %v, %v; want exactly one of a pool and an error", pool, err)
		}
	})
}
