package testenv_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/signet-dev/signet/internal/testenv"
)

// TestRIEVersion keeps the emulator's version in scripts/install-rie.sh
// equal to testenv.RIEVersion, so that RIEBinary finds what the script builds.
func TestRIEVersion(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "scripts", "install-rie.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RIE_VERSION="([^"]+)"$`).FindSubmatch(b)
	if m == nil {
		t.Fatal(`scripts/install-rie.sh has no RIE_VERSION="..." line`)
	}
	if got := string(m[1]); got != testenv.RIEVersion {
		t.Errorf("install-rie.sh builds RIE_VERSION %s; testenv.RIEVersion is %s", got, testenv.RIEVersion)
	}
}
