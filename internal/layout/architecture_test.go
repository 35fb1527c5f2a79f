package layout_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestArchitectureNames holds ARCHITECTURE.md to the code: every path it
// names in backticks exists, and every Go name it gives (`pkg.Name`,
// `pkg.Type.Method` or a bare `name`) is declared in the module, tests
// included. Backticked text that is neither (commands, headers) is left
// alone.
func TestArchitectureNames(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(root, "ARCHITECTURE.md"))
	if err != nil {
		t.Fatal(err)
	}
	decls := declared(t)
	checked := 0
	for _, m := range regexp.MustCompile("`([^`\n]+)`").FindAllStringSubmatch(string(doc), -1) {
		name := m[1]
		switch {
		case strings.ContainsAny(name, "<>{}* |(") || strings.HasPrefix(name, "signet"):
			continue // a placeholder, a command or a signature
		case strings.Contains(name, "/") || strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".md"):
			checked++
			if !pathExists(name) {
				t.Errorf("ARCHITECTURE.md names %s, which does not exist", name)
			}
		case goName.MatchString(name):
			checked++
			if !decls[name] {
				t.Errorf("ARCHITECTURE.md names %s, which is not declared in the module", name)
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d names checked in ARCHITECTURE.md; the test no longer reads it", checked)
	}
}

// goName is a Go identifier, optionally qualified by a package and a type.
var goName = regexp.MustCompile(`^[A-Za-z_]\w*(\.[A-Za-z_]\w*){0,2}$`)

// pathExists reports whether p names a file or directory from the
// repository root, or from internal/ (the page says `edge/access` for
// internal/edge/access).
func pathExists(p string) bool {
	for _, base := range []string{root, filepath.Join(root, "internal")} {
		if _, err := os.Stat(filepath.Join(base, filepath.FromSlash(p))); err == nil {
			return true
		}
	}
	return false
}

// declared returns the names the module's Go files declare at top level,
// as name, pkg.name, Type.Method and pkg.Type.Method (pkg is the package
// clause, without _test). It also holds every package name, so that a
// bare `edge` counts.
func declared(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		pkg := strings.TrimSuffix(f.Name.Name, "_test")
		add := func(n string) { names[n], names[pkg+"."+n] = true, true }
		names[pkg] = true
		for _, decl := range f.Decls {
			switch decl := decl.(type) {
			case *ast.FuncDecl:
				add(decl.Name.Name)
				if recv := receiver(decl); recv != "" {
					add(recv + "." + decl.Name.Name)
				}
			case *ast.GenDecl:
				for _, spec := range decl.Specs {
					switch spec := spec.(type) {
					case *ast.TypeSpec:
						add(spec.Name.Name)
					case *ast.ValueSpec:
						for _, n := range spec.Names {
							add(n.Name)
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// receiver is the name of a method's receiver type, "" for a function.
func receiver(f *ast.FuncDecl) string {
	if f.Recv == nil || len(f.Recv.List) == 0 {
		return ""
	}
	typ := f.Recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	switch typ := typ.(type) {
	case *ast.Ident:
		return typ.Name
	case *ast.IndexExpr: // a generic type
		if id, ok := typ.X.(*ast.Ident); ok {
			return id.Name
		}
	}
	return ""
}

// TestAdaptersHoldNoPolicy keeps the adapters to writing what the edge
// core decided: of the module, they import only the core and the access
// record. A rule that needs cfsign, an origin or the config belongs in the
// core, where both adapters share it.
func TestAdaptersHoldNoPolicy(t *testing.T) {
	allowed := []string{module + "/internal/edge", module + "/internal/edge/access"}
	all := imports(t)
	for _, adapter := range []string{"nethttp", "fasthttp"} {
		pkg := module + "/internal/edge/" + adapter
		imps, ok := all[pkg]
		if !ok {
			t.Fatalf("go list did not list %s", pkg)
		}
		for _, imp := range imps {
			if strings.HasPrefix(imp, module+"/") && !contains(allowed, imp) {
				t.Errorf("the %s adapter imports %s; adapters import only %v", adapter, imp, allowed)
			}
		}
	}
}
