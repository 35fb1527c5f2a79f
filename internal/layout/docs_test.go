package layout_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

var update = flag.Bool("update", false, "rewrite the tables of contents in docs/*.md")

// root is the repository root, two levels above this package.
const root = "../.."

const tocStart, tocEnd = "<!-- toc -->", "<!-- /toc -->"

// heading is one Markdown heading outside code fences.
type heading struct {
	level  int
	text   string
	anchor string
}

// headings returns the headings of a Markdown document with GitHub's anchors
// (lower case, punctuation dropped, spaces as '-', repeats numbered).
func headings(doc string) []heading {
	var hs []heading
	seen := map[string]int{}
	fence := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " "), "```") {
			fence = !fence
			continue
		}
		if fence || !strings.HasPrefix(line, "#") {
			continue
		}
		level := len(line) - len(strings.TrimLeft(line, "#"))
		if level > 6 || !strings.HasPrefix(line[level:], " ") {
			continue
		}
		text := strings.TrimSpace(line[level:])
		a := anchor(text)
		if n := seen[a]; n > 0 {
			seen[a]++
			a = fmt.Sprintf("%s-%d", a, n)
		} else {
			seen[a] = 1
		}
		hs = append(hs, heading{level, text, a})
	}
	return hs
}

func anchor(text string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// toc is the table of contents of a page: its level-2 and level-3 headings.
func toc(hs []heading) string {
	var b strings.Builder
	for _, h := range hs {
		if h.level < 2 || h.level > 3 {
			continue
		}
		fmt.Fprintf(&b, "%s- [%s](#%s)\n", strings.Repeat("  ", h.level-2), h.text, h.anchor)
	}
	return b.String()
}

func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no docs/*.md pages (%v)", err)
	}
	return pages
}

// TestDocsTOC holds every page under docs/ to a table of contents, between
// <!-- toc --> markers, that lists its headings. Run with -update to rewrite
// them after editing headings.
func TestDocsTOC(t *testing.T) {
	for _, page := range docPages(t) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		i, j := strings.Index(doc, tocStart), strings.Index(doc, tocEnd)
		if i < 0 || j < i {
			t.Errorf("%s: no table of contents between %s and %s", page, tocStart, tocEnd)
			continue
		}
		want := toc(headings(doc))
		got := strings.TrimPrefix(doc[i+len(tocStart):j], "\n")
		if got == want {
			continue
		}
		if *update {
			doc = doc[:i+len(tocStart)] + "\n" + want + doc[j:]
			if err := os.WriteFile(page, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s: the table of contents does not list the headings; run go test ./internal/layout -run TestDocsTOC -update\ngot:\n%s\nwant:\n%s", page, got, want)
	}
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocsLinks checks every link of README.md and docs/*.md: relative links
// name a file of the repository and, with a #fragment, one of its headings.
// Nothing points outside the repository but web addresses.
func TestDocsLinks(t *testing.T) {
	pages := append(docPages(t), filepath.Join(root, "README.md"))
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
			link := m[1]
			if strings.HasPrefix(link, "https://") || strings.HasPrefix(link, "http://") {
				continue
			}
			file, frag, _ := strings.Cut(link, "#")
			target := page
			if file != "" {
				target = filepath.Join(filepath.Dir(page), file)
			}
			rel, err := filepath.Rel(root, target)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s: link %q points outside the repository", page, link)
				continue
			}
			tb, err := os.ReadFile(target)
			if err != nil {
				t.Errorf("%s: link %q: %v", page, link, err)
				continue
			}
			if frag == "" {
				continue
			}
			found := false
			for _, h := range headings(string(tb)) {
				found = found || h.anchor == frag
			}
			if !found {
				t.Errorf("%s: link %q: %s has no heading with anchor #%s", page, link, rel, frag)
			}
		}
	}
}
