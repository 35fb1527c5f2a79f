// Package cli is signet's command line: keygen, sign, verify and explain.
// Each command is a struct with Run(ctx, args) error; Main picks one, runs it
// and turns its error into one line on stderr and an exit status.
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

const usage = `signet: self-hosted, CloudFront-compatible signed URLs and cookies

Usage:
  signet <command> [flags] [arguments]

Commands:
  keygen    generate a key pair (ECDSA P-256 or RSA-2048) and print its key id
  sign      sign a URL, or make signed cookies, with a private key
  verify    check a signed URL or cookies against public keys
  explain   decode a signed URL or cookies and point out mistakes (no keys needed)
  serve     run the edge: verify signed links and serve a private origin
  token     manage the signing API's bearer tokens: signet token create|list|revoke|export
  keys      show the use of each trusted key id (for key rotation): signet keys status
  config    check a config file, or print an example: signet config validate FILE
  help      show this help, or a command's: signet help sign

Flags may come before or after the URL. Run 'signet <command> -h' for a
command's flags and examples.

Exit status: 0 success; 1 verify refused the link or explain found problems;
2 usage error or bad input (the command could not run).
`

// Env is what a command talks to: its output streams and its clock.
type Env struct {
	Stdout, Stderr io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
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
type Command interface {
	Run(ctx context.Context, args []string) error
}

// Main runs signet with args (without the program name) and returns the exit
// status. Errors are reported as one line, "signet: <command>: <message>",
// on stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	env := Env{Stdout: stdout, Stderr: stderr}
	name, args := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) == 0 {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		// "signet help sign" is "signet sign -h".
		name, args = args[0], []string{"-h"}
	}
	var err error
	if cmd := command(name, env); cmd != nil {
		err = cmd.Run(ctx, args)
	} else {
		err = errors.New("unknown command; the commands are keygen, sign, verify, explain, serve, token, keys and config (see signet help)")
	}
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errVerdict):
		return exitVerdict
	}
	fmt.Fprintf(stderr, "signet: %s: %s\n", oneLine(name), oneLine(err.Error()))
	return exitError
}

// oneLine collapses runs of white space, newlines included, to one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// command returns the named command, or nil. This switch is the only list of
// commands.
func command(name string, env Env) Command {
	switch name {
	case "keygen":
		return &KeygenCommand{Env: env}
	case "sign":
		return &SignCommand{Env: env}
	case "verify":
		return &VerifyCommand{Env: env}
	case "explain":
		return &ExplainCommand{Env: env}
	case "config":
		return &ConfigCommand{Env: env}
	case "serve":
		return &ServeCommand{Env: env}
	case "keys":
		return &KeysCommand{Env: env}
	case "token":
		return &TokenCommand{Env: env}
	}
	return nil
}

// newFlagSet returns a flag set that reports errors only through Parse's
// return value. (The flag package would print the error and then the whole
// usage to its output; we want one line, written by Main.)
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("signet "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses args with fs and returns the positional arguments. Flags
// may come before or after them: the flag package stops at the first
// non-flag, so parsing resumes after each one. After "--" everything is
// positional. On -h it prints help to w and returns flag.ErrHelp.
func parseArgs(fs *flag.FlagSet, help string, w io.Writer, args []string) ([]string, error) {
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(w, help)
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("%w (see '%s -h')", err, fs.Name())
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// oneURL checks that exactly one positional argument, the URL, was given.
func oneURL(fs *flag.FlagSet, pos []string) (string, error) {
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
