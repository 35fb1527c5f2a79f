// Package cli is signet's command line. Each command is a struct with
// Run(ctx, args) error; Main finds it in the command tree (tree), runs it
// and turns its error into one line on stderr and an exit status. Help
// pages (help.go) and shell completion (completion.go) are made from the
// same tree and the same flag sets, so they cannot drift from the code.
//
// The commands, with the type that runs each and where it lives:
//
//	signet keygen             KeygenCommand      keygen.go
//	signet sign               SignCommand        sign.go
//	signet verify             VerifyCommand      verify.go
//	signet explain            ExplainCommand     explain.go, explain_checks.go, explain_repair.go
//	signet serve              ServeCommand       serve.go
//	signet token create       TokenCommand       token.go
//	signet token list         TokenCommand       token.go
//	signet token revoke       TokenCommand       token.go
//	signet token export       TokenCommand       token.go
//	signet keys status        KeysCommand        keys.go
//	signet config validate    ConfigCommand      config.go
//	signet config example     ConfigCommand      config.go
//	signet completion         CompletionCommand  completion.go
//	signet version            VersionCommand     version.go
//	signet help               HelpCommand        cli.go
//
// What they share: flag sets, parseArgs and help pages in help.go; reading
// flag values and writing text fields in values.go; --json output and the
// error text users see in output.go. TestPackageDoc holds the list above
// to the command tree.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Exit statuses. 1 is a verdict, never a failure: scripts can tell "the link
// is bad" from "the command could not run", as with grep and diff.
const (
	exitOK      = 0
	exitVerdict = 1 // verify refused the link; explain found problems
	exitError   = 2 // usage error or bad input: the command could not run
)

// errVerdict is returned by verify and explain after they have printed a
// negative answer. Main maps it to exit status 1 and prints nothing more.
var errVerdict = errors.New("negative verdict")

// Env is what a command talks to: its output streams and its clock.
type Env struct {
	Stdout, Stderr io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// describe, when set, makes a command's Run stop in parseArgs and hand
	// over its flag set and help page (see node.describe).
	describe func(*flagSet, *page)
}

func (e *Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// warnf writes one warning line to stderr: warnings never go to stdout,
// which scripts capture.
func (e *Env) warnf(format string, args ...any) {
	fmt.Fprintf(e.Stderr, "signet: warning: "+format+"\n", args...)
}

// Command is one subcommand. Run parses args (everything after the command
// name) and does the work. It returns flag.ErrHelp after printing its help,
// and errVerdict after printing a negative verdict.
//
// Run's first act must be parseArgs, before anything with an effect (a
// file read, a network call): help pages and shell completion learn a
// command's flags by running it with Env.describe set, when parseArgs
// returns at once (see node.describe).
type Command interface {
	Run(ctx context.Context, args []string) error
}

// node is one command of the tree that Main dispatches on, help lists and
// shell completion walks: a command (cmd set) or a group of subcommands
// (subs set, with its own page).
type node struct {
	name  string
	cmd   func(Env) Command
	group *page
	subs  []*node
}

// tree is signet's command tree: the only list of commands. It is built
// on each call (it is small) so that the help command can refer to it.
func tree() *node {
	cmd := func(name string, f func(Env) Command) *node { return &node{name: name, cmd: f} }
	return &node{group: rootPage, subs: []*node{
		cmd("keygen", func(e Env) Command { return &KeygenCommand{Env: e} }),
		cmd("sign", func(e Env) Command { return &SignCommand{Env: e} }),
		cmd("verify", func(e Env) Command { return &VerifyCommand{Env: e} }),
		cmd("explain", func(e Env) Command { return &ExplainCommand{Env: e} }),
		cmd("serve", func(e Env) Command { return &ServeCommand{Env: e} }),
		{name: "token", group: tokenPage, subs: []*node{
			cmd("create", func(e Env) Command { return &TokenCommand{Env: e, sub: "create"} }),
			cmd("list", func(e Env) Command { return &TokenCommand{Env: e, sub: "list"} }),
			cmd("revoke", func(e Env) Command { return &TokenCommand{Env: e, sub: "revoke"} }),
			cmd("export", func(e Env) Command { return &TokenCommand{Env: e, sub: "export"} }),
		}},
		{name: "keys", group: keysPage, subs: []*node{
			cmd("status", func(e Env) Command { return &KeysCommand{Env: e} }),
		}},
		{name: "config", group: configPage, subs: []*node{
			cmd("validate", func(e Env) Command { return &ConfigCommand{Env: e, sub: "validate"} }),
			cmd("example", func(e Env) Command { return &ConfigCommand{Env: e, sub: "example"} }),
		}},
		cmd("completion", func(e Env) Command { return &CompletionCommand{Env: e} }),
		cmd("version", func(e Env) Command { return &VersionCommand{Env: e} }),
		cmd("help", func(e Env) Command { return &HelpCommand{Env: e} }),
	}}
}

var rootPage = &page{
	usage: []string{"COMMAND [flags] [arguments]"},
	about: `signet: self-hosted, CloudFront-compatible signed URLs and cookies.

Flags may come before or after the arguments; "--" ends them. Run
'signet COMMAND -h' (or 'signet help COMMAND') for a command's flags and
examples. docs/cli.md is the full reference.`,
	examples: []string{
		"keygen --out keys",
		"sign --key keys/private_key.pem --key-id K2JCJMDEHXQW5F --expires-in 1h \\\n    https://media.example.com/videos/intro.mp4",
		"serve",
		"help sign",
	},
	exit: "0 success; 1 a negative verdict (verify refused the link, explain found problems, config validate found problems); 2 usage error or bad input (the command could not run).",
}

// child returns the subcommand called name, or nil.
func (n *node) child(name string) *node {
	for _, s := range n.subs {
		if s.name == name {
			return s
		}
	}
	return nil
}

// names lists the subcommands as "a, b and c".
func (n *node) names() string {
	var names []string
	for _, s := range n.subs {
		names = append(names, s.name)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// describe returns what a command accepts: its flag set and help page,
// as its Run defines them (Run stops in parseArgs; nothing runs).
func (n *node) describe() (*flagSet, *page) {
	var (
		fs *flagSet
		p  *page
	)
	env := Env{Stdout: io.Discard, Stderr: io.Discard, describe: func(f *flagSet, pg *page) { fs, p = f, pg }}
	n.cmd(env).Run(context.Background(), nil)
	if p == nil {
		panic("cli: " + n.name + ": Run did not call parseArgs") // a programming error, caught by TestHelpShape
	}
	return fs, p
}

// page returns n's help page. A group's usage, when its page leaves it
// out, is its subcommands' usage lines.
func (n *node) page() *page {
	if n.cmd != nil {
		_, p := n.describe()
		return p
	}
	p := *n.group
	if len(p.usage) == 0 {
		for _, s := range n.subs {
			p.usage = append(p.usage, s.page().usage...)
		}
	}
	return &p
}

// help writes the help page of n, the command at path, to w.
func (n *node) help(w io.Writer, path string) error {
	if n.cmd == nil {
		return render(w, path, n.page(), nil, n.subs)
	}
	fs, p := n.describe()
	return render(w, path, p, fs, nil)
}

// find walks args down the tree from n as far as they name commands and
// returns the node reached, its path and the remaining arguments.
func (n *node) find(args []string) (*node, []string, []string) {
	var path []string
	for n.cmd == nil && len(args) > 0 {
		c := n.child(args[0])
		if c == nil {
			break
		}
		n, path, args = c, append(path, args[0]), args[1:]
	}
	return n, path, args
}

func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

// Main runs signet with args (without the program name) and returns the exit
// status. Errors are reported as one line, "signet: <command>: <message>",
// on stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env := Env{Stdout: stdout, Stderr: stderr}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = append([]string{"version"}, args[1:]...)
	}
	n, path, rest := tree().find(args)
	name := "signet"
	if len(path) > 0 {
		name = path[0]
	}
	var err error
	switch {
	case n.cmd != nil:
		err = n.cmd(env).Run(ctx, rest)
	case len(rest) == 0:
		// A group without its subcommand: its usage, on stderr.
		n.help(stderr, strings.Join(path, " "))
		return exitError
	case isHelp(rest[0]):
		err = n.help(stdout, strings.Join(path, " "))
	case len(path) == 0:
		name = rest[0]
		err = fmt.Errorf("unknown command; the commands are %s (see 'signet -h')", n.names())
	default:
		err = fmt.Errorf("unknown subcommand %q; the %s commands are %s (see 'signet %s -h')",
			rest[0], strings.Join(path, " "), n.names(), strings.Join(path, " "))
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errVerdict):
		return exitVerdict
	}
	fmt.Fprintf(stderr, "signet: %s: %s\n", oneLine(name), userText(err.Error()))
	return exitError
}

// HelpCommand is "signet help": it prints the help page of a command.
type HelpCommand struct{ Env }

var helpPage = &page{
	summary:  "show a command's help (as signet COMMAND -h)",
	usage:    []string{"help [COMMAND [SUBCOMMAND]]"},
	about:    "Prints the help page of COMMAND, or of signet itself, on stdout.",
	operand:  "COMMAND",
	examples: []string{"help sign", "help token create"},
}

// Run prints the page.
func (c *HelpCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseArgs(newFlagSet("help"), helpPage, &c.Env, args)
	if err != nil {
		return err
	}
	n, path, rest := tree().find(pos)
	if len(rest) > 0 {
		if len(path) == 0 {
			return fmt.Errorf("unknown command %q (see 'signet -h')", rest[0])
		}
		if n.cmd == nil {
			return fmt.Errorf("unknown subcommand %q of %s (see 'signet %s -h')", rest[0], strings.Join(path, " "), strings.Join(path, " "))
		}
		return fmt.Errorf("%s has no subcommands", strings.Join(path, " "))
	}
	return n.help(c.Stdout, strings.Join(path, " "))
}

// oneLine collapses runs of white space, newlines included, to one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// parseNoArgs is parseArgs for a command that takes flags only: any
// positional argument is an error.
func parseNoArgs(fs *flagSet, p *page, env *Env, args []string) error {
	pos, err := parseArgs(fs, p, env, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q (see '%s -h')", pos[0], fs.Name())
	}
	return nil
}

// parseURLArg is parseArgs for a command whose one positional argument is
// a URL (see oneURL): it returns the URL.
func parseURLArg(fs *flagSet, p *page, env *Env, args []string) (string, error) {
	pos, err := parseArgs(fs, p, env, args)
	if err != nil {
		return "", err
	}
	return oneURL(fs, pos)
}

// oneURL checks that exactly one positional argument, the URL, was given.
func oneURL(fs *flagSet, pos []string) (string, error) {
	switch len(pos) {
	case 0:
		return "", fmt.Errorf("missing URL (see '%s -h')", fs.Name())
	case 1:
		return pos[0], nil
	}
	return "", fmt.Errorf("expected one URL, got %d arguments; quote URLs that contain '&' (see '%s -h')", len(pos), fs.Name())
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ", ") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}
