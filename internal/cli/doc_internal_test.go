package cli

import (
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestPackageDoc checks that the package comment lists every command of
// the tree, once, with the type that runs it and files that exist, and
// nothing else.
func TestPackageDoc(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "cli.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]string{} // command path to the rest of its line
	for line := range strings.SplitSeq(f.Doc.Text(), "\n") {
		rest, ok := strings.CutPrefix(line, "\tsignet ")
		if !ok {
			continue
		}
		fields := regexp.MustCompile(`\s{2,}`).Split(rest, 2)
		if len(fields) != 2 {
			t.Fatalf("package comment line %q: want the command, its type and its files", line)
		}
		if _, dup := listed[fields[0]]; dup {
			t.Errorf("package comment lists signet %s twice", fields[0])
		}
		listed[fields[0]] = fields[1]
	}
	var walk func(n *node, path string)
	walk = func(n *node, path string) {
		if n.cmd == nil {
			for _, s := range n.subs {
				walk(s, strings.TrimSpace(path+" "+s.name))
			}
			return
		}
		rest, ok := listed[path]
		if !ok {
			t.Errorf("package comment does not list signet %s", path)
			return
		}
		delete(listed, path)
		typ, files, _ := strings.Cut(rest, " ")
		if want := strings.TrimPrefix(fmt.Sprintf("%T", n.cmd(Env{})), "*cli."); typ != want {
			t.Errorf("package comment: signet %s is run by %s; want %s", path, typ, want)
		}
		for file := range strings.SplitSeq(strings.TrimSpace(files), ", ") {
			if _, err := os.Stat(file); err != nil {
				t.Errorf("package comment: signet %s lives in %s: %v", path, file, err)
			}
		}
	}
	walk(tree(), "")
	for path := range listed {
		t.Errorf("package comment lists signet %s, which is not in the command tree", path)
	}
}
