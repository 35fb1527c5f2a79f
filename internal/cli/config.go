package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/signet-dev/signet/internal/config"
)

var configPage = &page{
	summary: "check a config file, or print an example one",
	about: `validate checks a config file as signet serve would load it; example prints
a complete, commented config to start from.`,
	examples: []string{
		"config validate signet.yaml",
		"config example > signet.yaml",
	},
}

var configPages = map[string]*page{
	"validate": {
		summary: "check a config file and print every problem with its line",
		usage:   []string{"config validate [--files] FILE"},
		about: `Loads FILE as signet serve would (strict YAML, ${NAME} expansion from the
environment, relative paths from FILE's directory) and prints "FILE: ok", or
every problem, one per line, as FILE:LINE: field: problem. Warnings (allowed,
but probably not meant) go to stderr and do not fail it. It reads no other
file unless --files is given.`,
		operand: "FILE",
		examples: []string{
			"config validate signet.yaml",
			"config validate --files /etc/signet/signet.yaml",
		},
		exit: "0 valid; 1 problems found; 2 usage error or unreadable FILE.",
	},
	"example": {
		summary:  "print a complete, commented config that passes validate",
		usage:    []string{"config example"},
		about:    "Prints a complete, commented config that passes validate; start from it.",
		examples: []string{"config example > signet.yaml"},
	},
}

// ConfigCommand is "signet config validate|example": it validates a config
// file or prints an example one.
type ConfigCommand struct {
	Env
	sub string
}

// Run runs the subcommand.
func (c *ConfigCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("config " + c.sub)
	var files *bool
	if c.sub == "validate" {
		files = fs.Bool("files", false, "also read the files the config names, once it is valid: TLS certificates and keys, ACME CA roots, public keys and signers' key files (type, size, and that a signer's key is the one its distribution's key groups trust under its id), and the directories served")
	}
	pos, err := parseArgs(fs, configPages[c.sub], &c.Env, args)
	if err != nil {
		return err
	}
	if c.sub == "example" {
		if len(pos) > 0 {
			return fmt.Errorf("unexpected argument %q: example takes none (see 'signet config example -h')", pos[0])
		}
		_, err = io.WriteString(c.Stdout, config.Example())
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("expected one FILE, got %d arguments (see 'signet config validate -h')", len(pos))
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
		return fmt.Sprintf("%s:%d: %s", file, p.Line, userText(s))
	}
	return file + ": " + userText(s)
}
