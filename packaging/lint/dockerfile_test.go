package lint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// root is the repository, two directories up.
var root = filepath.Join("..", "..")

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// offlineImages answers BuildKit's base image lookups without a registry
// (this machine reaches none): every image is an empty Linux image of the
// platform asked for. It records the references looked up. Safe for
// concurrent use.
type offlineImages struct {
	mu   sync.Mutex
	refs []string
}

func (o *offlineImages) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	o.mu.Lock()
	o.refs = append(o.refs, ref)
	o.mu.Unlock()
	p := ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		p = *opt.ImageOpt.Platform
	}
	cfg, err := json.Marshal(ocispecs.Image{Platform: p, RootFS: ocispecs.RootFS{Type: "layers"}})
	return ref, digest.FromBytes(cfg), cfg, err
}

// TestDockerfileCheck runs BuildKit's linter over the Dockerfile as
// `docker build --check` does, every stage, and wants no warning and no
// error. Base images are not fetched (see offlineImages), so rules that
// need an image's contents are not applied.
func TestDockerfileCheck(t *testing.T) {
	dt := read(t, "Dockerfile")
	sm := llb.NewSourceMap(nil, "Dockerfile", "Dockerfile", dt)
	sm.Definition = &llb.Definition{} // DockerfileLint records the source with it
	images := &offlineImages{}
	res, err := dockerfile2llb.DockerfileLint(t.Context(), dt, dockerfile2llb.ConvertOpt{SourceMap: sm, MetaResolver: images})
	if err != nil {
		t.Fatalf("DockerfileLint: %v", err)
	}
	if res.Error != nil {
		t.Errorf("Dockerfile: %s", res.Error.Message)
	}
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		t.Errorf("Dockerfile:%d: %s: %s (%s)", line, w.RuleName, w.Detail, w.URL)
	}
	if len(images.refs) < 2 {
		t.Errorf("the check looked up base images %q; want the build stage's and the final one's", images.refs)
	}
}

// TestDockerfileRules checks what signet's image must be: multi-stage; a
// final stage on distroless static or scratch, as a non-root user, with
// EXPOSE, a VOLUME for data_dir and an exec-form ENTRYPOINT; a build stage
// on a Go at least as new as go.mod asks, building as `make release` does
// (static, -trimpath, stripped, the version stamped into the Makefile's
// VERSION_VAR); and every file the build needs copied past .dockerignore.
func TestDockerfileRules(t *testing.T) {
	dt := read(t, "Dockerfile")
	ast, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		t.Fatal(err)
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages; want a build stage and a final one", len(stages))
	}
	args := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				args[kv.Key] = *kv.Value
			}
		}
	}
	expand := func(s string) string {
		return regexp.MustCompile(`\$\{?(\w+)\}?`).ReplaceAllStringFunc(s, func(m string) string {
			return args[strings.Trim(m, "${}")]
		})
	}

	final := stages[len(stages)-1]
	if base := expand(final.BaseName); !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("the final stage is FROM %s; want distroless static or scratch", base)
	}
	var user, entrypoint string
	var volumes []string
	exposed, copiesBinary := false, false
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.UserCommand:
			user = c.User
		case *instructions.ExposeCommand:
			exposed = len(c.Ports) > 0
		case *instructions.VolumeCommand:
			volumes = append(volumes, c.Volumes...)
		case *instructions.EntrypointCommand:
			if c.PrependShell {
				t.Errorf("ENTRYPOINT %v is in shell form; want exec form, so signals reach signet", c.CmdLine)
			}
			entrypoint = strings.Join(c.CmdLine, " ")
		case *instructions.CopyCommand:
			copiesBinary = copiesBinary || (c.From != "" && c.DestPath == "/usr/local/bin/signet")
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("the final stage runs as user %q; want a non-root user", user)
	}
	if !exposed {
		t.Error("the final stage has no EXPOSE")
	}
	if !slices.Contains(volumes, "/var/lib/signet") {
		t.Errorf("VOLUME %v; want /var/lib/signet, the documented data_dir", volumes)
	}
	if entrypoint != "/usr/local/bin/signet" || !copiesBinary {
		t.Errorf("ENTRYPOINT %q; want /usr/local/bin/signet, copied from the build stage", entrypoint)
	}

	build := stages[0]
	goVersion, ok := strings.CutPrefix(expand(build.BaseName), "golang:")
	goVersion, _, _ = strings.Cut(goVersion, "-")
	if m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(read(t, "go.mod")); !ok || m == nil || !atLeast(goVersion, string(m[1])) {
		t.Errorf("the build stage is FROM %s; want golang:X with X at least go.mod's go line", expand(build.BaseName))
	}
	m := regexp.MustCompile(`(?m)^VERSION_VAR := (\S+)$`).FindSubmatch(read(t, "Makefile"))
	if m == nil {
		t.Fatal("the Makefile has no VERSION_VAR := line")
	}
	var goBuild string
	for _, c := range build.Commands {
		if r, ok := c.(*instructions.RunCommand); ok && strings.Contains(strings.Join(r.CmdLine, " "), "go build") {
			goBuild = strings.Join(r.CmdLine, " ")
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-s -w", "-X " + string(m[1]) + "=${VERSION}", "./cmd/signet"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("the build stage's go build lacks %q: %q", want, goBuild)
		}
	}

	ignore, err := ignorefile.ReadAll(bytes.NewReader(read(t, ".dockerignore")))
	if err != nil {
		t.Fatal(err)
	}
	pm, err := patternmatcher.New(ignore)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range build.Commands {
		cp, ok := c.(*instructions.CopyCommand)
		if !ok || cp.From != "" {
			continue
		}
		for _, src := range cp.SourcePaths {
			checkContext(t, pm, src)
		}
	}
}

// checkContext fails t unless src, a COPY source, exists and every file
// under it that a build reads (not a test or test data) is in the build
// context that .dockerignore (pm) leaves.
func checkContext(t *testing.T, pm *patternmatcher.PatternMatcher, src string) {
	t.Helper()
	found := false
	err := filepath.WalkDir(filepath.Join(root, src), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if strings.HasSuffix(rel, "_test.go") || strings.Contains("/"+rel, "/testdata/") {
			return nil
		}
		found = true
		if ignored, err := pm.MatchesOrParentMatches(rel); err != nil || ignored {
			t.Errorf("COPY %s: .dockerignore leaves out %s (%v), which the build needs", src, rel, err)
		}
		return nil
	})
	if err != nil || !found {
		t.Errorf("COPY %s: nothing to copy (%v)", src, err)
	}
}

// atLeast reports whether Go version a (such as "1.26.8") is at least b.
func atLeast(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		x, y := 0, 0
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x > y
		}
	}
	return true
}
