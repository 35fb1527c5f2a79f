package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/testenv"
)

// compCase is one completion request: the words typed after "signet", the
// last being the one under the cursor, and the candidates wanted.
type compCase struct {
	words []string
	want  []string
}

// completionCases are what every shell must complete, taken from the help
// pages (walkHelp), so completion and help cannot drift apart: after each
// group, its subcommands (and after "-", its help flags); after "-" in each
// command, every flag its help documents; and the values the help pages
// name.
func completionCases(t *testing.T) []compCase {
	var cases []compCase
	walkHelp(t, func(path string, p helpPage) {
		words := strings.Fields(path)
		if len(p.commands) > 0 {
			flags := []string{"-h", "--help"}
			if path == "" {
				flags = append(flags, "--version")
			}
			cases = append(cases, compCase{append(words, ""), commandsOf(p.commands)}, compCase{append(words, "-"), flags})
			return
		}
		var flags []string
		for _, f := range flagNamesOf(p.flags) {
			flags = append(flags, "--"+f)
		}
		cases = append(cases, compCase{append(words, "-"), append(flags, "-h", "--help")})
	})
	var top []string
	walkHelp(t, func(path string, p helpPage) {
		if path == "" {
			top = commandsOf(p.commands)
		}
	})
	return append(cases,
		compCase{[]string{"keygen", "--type", ""}, []string{"ecdsa", "rsa"}},
		compCase{[]string{"sign", "--hash", ""}, []string{"sha1", "sha256"}},
		compCase{[]string{"sign", "--key", "sig"}, []string{"signet-key.pem"}},
		compCase{[]string{"sign", "--key-id", ""}, nil},
		compCase{[]string{"config", "validate", "sig"}, []string{"signet-key.pem"}},
		compCase{[]string{"completion", ""}, []string{"bash", "zsh", "fish"}},
		compCase{[]string{"help", ""}, top},
		compCase{[]string{"token", "cr"}, []string{"create"}},
	)
}

// completionDir is a directory holding one file, for file completion.
func completionDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "signet-key.pem"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func checkCompletion(t *testing.T, shell string, cases []compCase, out string) {
	t.Helper()
	got := strings.Split(out, "\x1e")
	if len(got) != len(cases)+1 {
		t.Fatalf("%s: %d answers for %d cases:\n%s", shell, len(got)-1, len(cases), out)
	}
	for i, c := range cases {
		words := strings.Fields(got[i])
		slices.Sort(words)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(words, want) {
			t.Errorf("%s: signet %s<TAB> = %q; want %q", shell, strings.Join(c.words, " "), words, want)
		}
	}
}

func script(t *testing.T, shell string) string {
	t.Helper()
	r := mustRun(t, "completion", shell)
	path := filepath.Join(t.TempDir(), "signet."+shell)
	if err := os.WriteFile(path, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func quoteWords(words []string, quote func(string) string) string {
	var q []string
	for _, w := range words {
		q = append(q, quote(w))
	}
	return strings.Join(q, " ")
}

func sh(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestCompletionBash sources the bash script in bash and asks its
// completion function for every case.
func TestCompletionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	testenv.Need(t, "bash", err == nil)
	path := script(t, "bash")
	cases := completionCases(t)
	var b strings.Builder
	b.WriteString("source " + sh(path) + "\ncomplete -p signet\nprintf '\\x1e'\n")
	for _, c := range cases {
		words := append([]string{"signet"}, c.words...)
		b.WriteString("COMP_WORDS=(" + quoteWords(words, sh) + "); COMP_CWORD=" + strconv.Itoa(len(words)-1) +
			"; COMPREPLY=(); _signet; printf '%s\\n' \"${COMPREPLY[@]}\"; printf '\\x1e'\n")
	}
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", b.String())
	cmd.Dir = completionDir(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	head, rest, _ := strings.Cut(string(out), "\x1e")
	if strings.TrimSpace(head) != "complete -F _signet signet" {
		t.Errorf("complete -p signet = %q; want the function registered", head)
	}
	checkCompletion(t, "bash", cases, rest)
}

// TestCompletionZsh checks the zsh script's syntax with zsh -n, then runs
// its completion function with zsh's completion builtins (compadd,
// _describe, _files) replaced by functions that print what they are given.
func TestCompletionZsh(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	testenv.Need(t, "zsh", err == nil)
	path := script(t, "zsh")
	if out, err := exec.Command(zsh, "-n", path).CombinedOutput(); err != nil {
		t.Fatalf("zsh -n: %v\n%s", err, out)
	}
	cases := completionCases(t)
	var b strings.Builder
	b.WriteString(`
compdef() { print -r -- "compdef $*" >&2 }
# Like the real ones, the stubs offer only the words that start with $cur.
compadd() { while [[ $1 == -* && $1 != -- ]]; do shift; done; [[ $1 == -- ]] && shift; print -l -- ${(M)@:#${cur}*} }
_describe() { local -a arr; arr=("${(@P)${@[-1]}}"); arr=("${arr[@]%%:*}"); print -l -- ${(M)arr:#${cur}*} }
_files() { local -a f; if [[ $1 == -/ ]]; then f=(${cur}*(N/)); else f=(${cur}*(N)); fi; print -l -- $f }
_message() { : }
source ` + sh(path) + `
print -n '\x1e'
`)
	for _, c := range cases {
		words := append([]string{"signet"}, c.words...)
		b.WriteString("words=(" + quoteWords(words, sh) + "); CURRENT=" + strconv.Itoa(len(words)) +
			"; cur=${words[CURRENT]}; _signet; print -n '\\x1e'\n")
	}
	cmd := exec.Command(zsh, "-f", "-c", b.String())
	cmd.Dir = completionDir(t)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zsh: %v\n%s%s", err, out, stderr.String())
	}
	if !strings.Contains(stderr.String(), "compdef _signet signet") {
		t.Errorf("sourcing the script did not register _signet with compdef; stderr: %s", stderr.String())
	}
	_, rest, _ := strings.Cut(string(out), "\x1e")
	checkCompletion(t, "zsh", cases, strings.ReplaceAll(rest, `\:`, ":"))
}

// TestCompletionFish loads the fish script and asks fish itself (complete
// -C) for every case.
func TestCompletionFish(t *testing.T) {
	fish, err := exec.LookPath("fish")
	testenv.Need(t, "fish", err == nil)
	path := script(t, "fish")
	if out, err := exec.Command(fish, "--no-execute", path).CombinedOutput(); err != nil {
		t.Fatalf("fish --no-execute: %v\n%s", err, out)
	}
	cases := completionCases(t)
	var b strings.Builder
	b.WriteString("source " + sh(path) + "\nprintf '\\x1e'\n")
	for _, c := range cases {
		line := "signet " + strings.Join(c.words, " ")
		b.WriteString("complete -C " + sh(line) + " | string replace -r '\\t.*' ''; printf '\\x1e'\n")
	}
	cmd := exec.Command(fish, "--no-config", "-c", b.String())
	cmd.Dir = completionDir(t)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fish: %v\n%s", err, out)
	}
	_, rest, _ := strings.Cut(string(out), "\x1e")
	checkCompletion(t, "fish", cases, rest)
}

func TestCompletionErrors(t *testing.T) {
	wantError(t, run(t, "completion"), "completion", "expected one SHELL (bash, zsh or fish), got 0 arguments")
	wantError(t, run(t, "completion", "tcsh"), "completion", `unknown shell "tcsh": bash, zsh or fish`)
}
