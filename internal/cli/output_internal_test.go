package cli

import (
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

// testOnly are the packages under internal/ that only tests use: their
// errors never reach a user.
var testOnly = []string{"e2e", "edgetest", "layout", "origintest", "statetest", "testenv"}

// TestErrorPrefixes holds errorPrefixes to the packages under internal/:
// every package a user's command runs has its prefix stripped from the
// errors it shows, and the list names no package that is gone.
func TestErrorPrefixes(t *testing.T) {
	out, err := exec.Command("go", "list", "github.com/signet-dev/signet/internal/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	want := []string{"bootstrap"}
	for _, pkg := range strings.Fields(string(out)) {
		name := path.Base(pkg)
		switch {
		case slices.Contains(testOnly, name):
			continue
		case path.Base(path.Dir(pkg)) == "origin" && slices.Contains(errorPrefixes, name+" origin"):
			name += " origin" // an origin implementation: "s3 origin: ..."
		}
		want = append(want, name)
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(errorPrefixes))
	if !slices.Equal(got, want) {
		t.Errorf("errorPrefixes = %q; want %q (the packages under internal/ but %q)", got, want, testOnly)
	}
	for _, p := range errorPrefixes {
		if got := userText("a: " + p + ": b"); got != "a: b" {
			t.Errorf("userText(%q) = %q; want %q", "a: "+p+": b", got, "a: b")
		}
	}
}
