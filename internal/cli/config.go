package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/signet-dev/signet/internal/config"
)

const configUsage = `Usage: signet config validate [--files] FILE
       signet config example

validate loads FILE as signet serve would (strict YAML, ${NAME} expansion
from the environment, relative paths from FILE's directory) and prints
"FILE: ok", or every problem, one per line, as FILE:LINE: field: problem.
Warnings (allowed, but probably not meant) go to stderr and do not fail it.
It reads no other file unless --files is given.

example prints a complete, commented config that passes validate; start
from it: signet config example > signet.yaml

Flags (validate):
  --files   also read the files the config names, once it is valid: TLS
            certificates and keys, ACME CA roots, public keys and signers'
            key files (type, size, and that a signer's key is the one its
            distribution's key groups trust under its id), and the
            directories served

Exit status: 0 valid; 1 problems found; 2 usage error or unreadable FILE.

Examples:
  signet config validate signet.yaml
  signet config validate --files /etc/signet/signet.yaml
`

// ConfigCommand is "signet config": it validates a config file or prints
// an example one.
type ConfigCommand struct {
	Env
}

// Run dispatches to validate or example.
func (c *ConfigCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("missing subcommand: validate or example (see 'signet config -h')")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "validate":
		return c.validate(rest)
	case "example":
		pos, err := parseArgs(newFlagSet("config example"), configUsage, c.Stdout, rest)
		if err != nil {
			return err
		}
		if len(pos) > 0 {
			return errors.New("example takes no arguments (see 'signet config -h')")
		}
		_, err = io.WriteString(c.Stdout, config.Example())
		return err
	case "-h", "-help", "--help", "help":
		fmt.Fprint(c.Stdout, configUsage)
		return flag.ErrHelp
	default:
		return fmt.Errorf("unknown subcommand %q: validate or example (see 'signet config -h')", sub)
	}
}

func (c *ConfigCommand) validate(args []string) error {
	fs := newFlagSet("config validate")
	files := fs.Bool("files", false, "also read the files the config names")
	pos, err := parseArgs(fs, configUsage, c.Stdout, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("expected one FILE, got %d arguments (see 'signet config -h')", len(pos))
	}
	name := pos[0]
	cfg, err := config.Load(name)
	if err == nil && *files {
		err = cfg.CheckFiles()
	}
	problems := config.Problems(err)
	if err != nil && len(problems) == 0 {
		return err // the file could not be read
	}
	if cfg != nil {
		for _, w := range cfg.Warnings() {
			c.warnf("%s", located(name, w))
		}
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(c.Stdout, located(name, p))
		}
		return errVerdict
	}
	fmt.Fprintf(c.Stdout, "%s: ok\n", name)
	return nil
}

// located is a problem as compilers print them, FILE:LINE: field: message,
// so that editors can jump to it; FILE: field: message without a line.
func located(file string, p *config.Problem) string {
	s := p.Msg
	if p.Path != "" {
		s = p.Path + ": " + s
	}
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", file, p.Line, oneLine(s))
	}
	return file + ": " + oneLine(s)
}
