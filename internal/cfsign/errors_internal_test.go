package cfsign

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestReasons checks that every private reason declared in errors.go has
// an entry in reasons, with a public code and a name fit for a metrics
// label that no other reason has, so that a new sentinel can never be
// counted as some other one, nor as "other".
func TestReasons(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]string{} // message -> variable
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if i >= len(vs.Values) {
				break
			}
			call, ok := vs.Values[i].(*ast.CallExpr)
			if !ok || !strings.HasPrefix(name.Name, "Err") || len(call.Args) != 1 {
				continue
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok {
				msg, _ := strconv.Unquote(lit.Value)
				declared[msg] = name.Name
			}
		}
		return true
	})
	if len(declared) < 20 {
		t.Fatalf("found %d Err* sentinels in errors.go; want the 20 or more declared there", len(declared))
	}
	if len(reasons) != len(declared) {
		t.Errorf("reasons has %d entries; errors.go declares %d sentinels", len(reasons), len(declared))
	}
	label := regexp.MustCompile(`^[a-z][a-z_]*[a-z]$`)
	names := map[string]string{}
	for sentinel, r := range reasons {
		v, ok := declared[sentinel.Error()]
		if !ok {
			t.Errorf("reasons holds %q, which errors.go does not declare", sentinel)
			continue
		}
		if r.code == CodeOK || r.code > AccessDenied {
			t.Errorf("%s: code %v; want one of CloudFront's five", v, r.code)
		}
		if !label.MatchString(r.name) || r.name == "other" {
			t.Errorf("%s: name %q; want lower_snake, and not \"other\"", v, r.name)
		}
		if other, dup := names[r.name]; dup {
			t.Errorf("%s: name %q is also %s's", v, r.name, other)
		}
		names[r.name] = v
		if got := ReasonName(deny(sentinel, "")); got != r.name {
			t.Errorf("ReasonName(deny(%s)) = %q; want %q", v, got, r.name)
		}
		if got := CodeOf(sentinel); got != r.code {
			t.Errorf("CodeOf(%s) = %v; want %v", v, got, r.code)
		}
	}
	if got := ReasonName(ErrSignerMismatch); got != "" {
		t.Errorf("ReasonName(ErrSignerMismatch) = %q; want \"\" for an error that is no refusal", got)
	}
}
