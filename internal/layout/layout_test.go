// Package layout_test checks the import rules of STYLE.md with `go list`:
// the signing core and the Origin interface use only the standard library,
// implementations import origin and never the reverse, the edge core does
// not know the edge cache, only the composition root opens origins (config
// calls their checks), and only the entry points import the CLI and the
// composition root.
package layout_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
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

// originImpls are the origin implementations and the health checker that
// wraps them: server opens them (its one switch on the origin type), and
// config calls their Check functions and nothing else. Tests may import
// them anywhere; imports reads the packages' non-test imports.
var originImpls = []string{
	module + "/internal/origin/dir",
	module + "/internal/origin/s3",
	module + "/internal/origin/http",
	module + "/internal/origin/health",
}

func TestImportDirections(t *testing.T) {
	allowed := map[string][]string{ // package -> the only packages that may import it
		module + "/internal/cli":    {module + "/cmd/signet"},
		module + "/internal/server": {module + "/internal/cli"},
	}
	for _, impl := range originImpls {
		allowed[impl] = []string{module + "/internal/server", module + "/internal/config"}
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

// TestConfigCallsOriginChecksOnly checks that config uses no more of an
// origin implementation than its Check functions, the rules it reports
// with the field path (STYLE.md, "One rule, one place"): opening an origin
// is server's.
func TestConfigCallsOriginChecksOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.Dir}} {{join .GoFiles " "}}`, module+"/internal/config").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	f := strings.Fields(string(out))
	dir, files := f[0], f[1:]
	fset := token.NewFileSet()
	for _, name := range files {
		file, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		impls := map[string]string{} // the name a file gives an implementation -> its path
		for _, imp := range file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if !contains(originImpls, path) {
				continue
			}
			local := filepath.Base(path)
			if imp.Name != nil {
				local = imp.Name.Name
			}
			if local == "_" || local == "." {
				t.Errorf("config/%s imports %s as %s; import it by name, for its Check functions", name, path, local)
			}
			impls[local] = path
		}
		ast.Inspect(file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && impls[x.Name] != "" && !strings.HasPrefix(sel.Sel.Name, "Check") {
				t.Errorf("%s: config uses %s.%s; it may call only an origin implementation's Check functions, and server opens origins",
					fset.Position(sel.Pos()), impls[x.Name], sel.Sel.Name)
			}
			return true
		})
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
