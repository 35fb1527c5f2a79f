// Package layout_test checks the import rules of STYLE.md with `go list`:
// the signing core and the Origin interface use only the standard library,
// implementations import origin and never the reverse, the edge core does
// not know the edge cache, and only the entry points import the CLI and
// the composition root.
package layout_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/signet-dev/signet"

// imports maps each package of the module to its direct imports.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		m[f[0]] = f[1:]
	}
	return m
}

func TestStandardLibraryOnly(t *testing.T) {
	for _, pkg := range []string{"internal/cfsign", "internal/origin", "internal/version"} {
		out, err := exec.Command("go", "list", "-deps", "-f", `{{if not .Standard}}{{.ImportPath}}{{end}}`, module+"/"+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep != module+"/"+pkg && !(pkg == "internal/origin" && dep == module+"/internal/origin") {
				t.Errorf("%s depends on %s; it may use only the standard library", pkg, dep)
			}
		}
	}
}

func TestImportDirections(t *testing.T) {
	allowed := map[string][]string{ // package -> the only packages that may import it
		module + "/internal/cli":    {module + "/cmd/signet"},
		module + "/internal/server": {module + "/internal/cli"},
	}
	for pkg, imps := range imports(t) {
		for _, imp := range imps {
			if who, ok := allowed[imp]; ok && !contains(who, pkg) {
				t.Errorf("%s imports %s; only %v may", pkg, imp, who)
			}
			if pkg == module+"/internal/origin" && strings.HasPrefix(imp, module+"/internal/origin/") {
				t.Errorf("origin imports its implementation %s; implementations import origin, never the reverse", imp)
			}
			if pkg == module+"/internal/cfsign" && strings.HasPrefix(imp, module+"/") {
				t.Errorf("cfsign imports %s", imp)
			}
			if (pkg == module+"/internal/edge" || strings.HasPrefix(pkg, module+"/internal/edge/")) && imp == module+"/internal/cache" {
				t.Errorf("%s imports the edge cache; the edge reads through whatever origin a behavior is given", pkg)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
