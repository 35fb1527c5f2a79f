package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/signet-dev/signet/internal/config"
)

// page is one command's help, in parts. render prints every page, from the
// top-level one to "signet token create -h", in the same shape: Usage, the
// description, Commands (groups only), Flags, Examples, Exit status. The
// Flags section is not written here: it comes from the command's flag set,
// the same one that parses its arguments and that shell completion lists,
// so help, parsing and completion cannot disagree.
type page struct {
	// summary is one line: what the parent's Commands section says.
	summary string
	// usage holds the synopsis lines, each without the leading "signet "; a
	// line that starts with a space continues the one before.
	usage []string
	// about says what the command does: paragraphs of text, wrapped as
	// written.
	about string
	// operand is the positional argument as the usage names it ("URL",
	// "FILE", "ID"), or choices separated by '|' ("bash|zsh|fish"); "" for
	// none. Shell completion reads it.
	operand string
	// examples are command lines, each without the leading "signet "; a
	// line may continue on the next after a '\'.
	examples []string
	// exit says what each exit status means; "" is exitCommon.
	exit string
}

// exitCommon is the exit status of a command that gives no verdict.
const exitCommon = "0 success; 2 usage error or bad input (the command could not run)."

// helpFlag is the line every Flags section ends with.
const helpFlag = "show this help"

// flagSet is a flag.FlagSet that remembers the order its flags were
// defined in, so help lists them in that order (flag.FlagSet sorts them).
// Flags defined through the embedded FlagSet's other methods are listed
// too, after these.
type flagSet struct {
	*flag.FlagSet
	order []string
}

// newFlagSet returns an empty flag set for the command at path ("sign",
// "token create"). It never prints: errors come back from parseArgs.
func newFlagSet(path string) *flagSet {
	fs := flag.NewFlagSet("signet "+path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{FlagSet: fs}
}

// The definers below shadow flag.FlagSet's to record the order. A usage
// names the flag's value in backquotes, as flag.UnquoteUsage reads it:
// "private key PEM `FILE`" is shown as "--key FILE".

func (fs *flagSet) Var(v flag.Value, name, usage string) {
	fs.FlagSet.Var(v, name, usage)
	fs.order = append(fs.order, name)
}

func (fs *flagSet) Func(name, usage string, fn func(string) error) {
	fs.FlagSet.Func(name, usage, fn)
	fs.order = append(fs.order, name)
}

func (fs *flagSet) StringVar(p *string, name, value, usage string) {
	define(fs, fs.FlagSet.StringVar, p, name, value, usage)
}

func (fs *flagSet) String(name, value, usage string) *string {
	return define(fs, fs.FlagSet.StringVar, new(string), name, value, usage)
}

func (fs *flagSet) BoolVar(p *bool, name string, value bool, usage string) {
	define(fs, fs.FlagSet.BoolVar, p, name, value, usage)
}

func (fs *flagSet) Bool(name string, value bool, usage string) *bool {
	return define(fs, fs.FlagSet.BoolVar, new(bool), name, value, usage)
}

func (fs *flagSet) Float64Var(p *float64, name string, value float64, usage string) {
	define(fs, fs.FlagSet.Float64Var, p, name, value, usage)
}

func (fs *flagSet) IntVar(p *int, name string, value int, usage string) {
	define(fs, fs.FlagSet.IntVar, p, name, value, usage)
}

// define defines a flag stored in p with def, one of the embedded
// FlagSet's definers, records its name, and returns p.
func define[T any](fs *flagSet, def func(*T, string, T, string), p *T, name string, value T, usage string) *T {
	def(p, name, value, usage)
	fs.order = append(fs.order, name)
	return p
}

// flags returns the flags in help order: as defined, then any others.
func (fs *flagSet) flags() []*flag.Flag {
	var out []*flag.Flag
	seen := map[string]bool{}
	for _, name := range fs.order {
		if f := fs.Lookup(name); f != nil && !seen[name] {
			out = append(out, f)
			seen[name] = true
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !seen[f.Name] {
			out = append(out, f)
		}
	})
	return out
}

// flagDoc is one flag as help and completion show it.
type flagDoc struct {
	name  string // without dashes
	arg   string // the value's placeholder ("FILE", "ecdsa|rsa"); "" for a switch
	usage string // the description, placeholder quotes removed
	def   string // the default, "" when it is the zero value
}

func docOf(f *flag.Flag) flagDoc {
	arg, usage := flag.UnquoteUsage(f)
	d := flagDoc{name: f.Name, arg: arg, usage: usage}
	if isBool(f) {
		d.arg = ""
	}
	switch f.DefValue {
	case "", "false", "0":
	default:
		d.def = f.DefValue
	}
	return d
}

// choices are the values a placeholder such as "ecdsa|rsa" allows; nil for
// a free value such as "FILE".
func choices(arg string) []string {
	if !strings.Contains(arg, "|") {
		return nil
	}
	return strings.Split(arg, "|")
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// parseArgs parses args with fs and returns the positional arguments. Flags
// may come before, between or after them; after "--" everything is
// positional. A flag is --name VALUE or --name=VALUE (one dash works too);
// a switch is --name. On -h or --help it prints p to env's stdout and
// returns flag.ErrHelp. Errors name flags as users type them ("--key"),
// and end with where to look.
//
// When env.describe is set (help pages and completion ask what a command
// accepts), nothing is parsed: parseArgs hands over fs and p and returns
// flag.ErrHelp.
func parseArgs(fs *flagSet, p *page, env *Env, args []string) ([]string, error) {
	if env.describe != nil {
		env.describe(fs, p)
		return nil, flag.ErrHelp
	}
	pos, err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		if err := render(env.Stdout, strings.TrimPrefix(fs.Name(), "signet "), p, fs, nil); err != nil {
			return nil, err
		}
		return nil, flag.ErrHelp
	}
	if err != nil {
		return nil, fmt.Errorf("%w (see '%s -h')", err, fs.Name())
	}
	return pos, nil
}

func parseFlags(fs *flagSet, args []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(pos, args[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name := strings.TrimPrefix(a[1:], "-")
		name, value, hasValue := strings.Cut(name, "=")
		if name == "" || name[0] == '-' {
			return nil, fmt.Errorf("bad flag syntax %q", a)
		}
		f := fs.Lookup(name)
		if f == nil {
			if name == "h" || name == "help" {
				return nil, flag.ErrHelp
			}
			return nil, fmt.Errorf("unknown flag --%s%s", name, suggestFlag(fs, name))
		}
		if isBool(f) {
			if !hasValue {
				value = "true"
			} else if _, err := strconv.ParseBool(value); err != nil {
				return nil, fmt.Errorf("--%s is a switch: give it alone, not %q", name, value)
			}
		} else if !hasValue {
			if i+1 == len(args) {
				arg, _ := flag.UnquoteUsage(f)
				return nil, fmt.Errorf("--%s needs a value (--%s %s)", name, name, arg)
			}
			i++
			value = args[i]
		}
		if err := fs.Set(name, value); err != nil {
			return nil, flagError(name, value, err)
		}
	}
	return pos, nil
}

// flagError names the flag whose value was refused. The flag package's own
// errors for numbers say only "parse error" or "value out of range".
func flagError(name, value string, err error) error {
	switch err.Error() {
	case "parse error":
		return fmt.Errorf("--%s: %q is not a number", name, value)
	case "value out of range":
		return fmt.Errorf("--%s: %s is out of range", name, value)
	}
	return fmt.Errorf("--%s: %w", name, err)
}

// suggestFlag is "; did you mean --NAME?" for the defined flag closest to
// an unknown one (as config suggests keys), or "" when none is close.
func suggestFlag(fs *flagSet, name string) string {
	var names []string
	for _, f := range fs.flags() {
		names = append(names, f.Name)
	}
	if best := config.Closest(name, names); best != "" {
		return "; did you mean --" + best + "?"
	}
	return ""
}

// render writes the help page of the command at path ("" for signet
// itself): p's parts, the commands of a group (subs) and the flags of fs.
func render(w io.Writer, path string, p *page, fs *flagSet, subs []*node) error {
	var b strings.Builder
	b.WriteString("Usage:\n")
	for _, u := range p.usage {
		if strings.HasPrefix(u, " ") { // the previous line continues
			b.WriteString("  " + u + "\n")
		} else {
			b.WriteString("  signet " + u + "\n")
		}
	}
	b.WriteString("\n" + strings.TrimSpace(p.about) + "\n")
	if len(subs) > 0 {
		b.WriteString("\nCommands:\n")
		width := 0
		for _, s := range subs {
			width = max(width, len(s.name))
		}
		for _, s := range subs {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, s.name, s.page().summary)
		}
	}
	b.WriteString("\nFlags:\n")
	var rows [][2]string
	if fs != nil {
		for _, f := range fs.flags() {
			d := docOf(f)
			left := "--" + d.name
			if d.arg != "" {
				left += " " + d.arg
			}
			text := d.usage
			if d.def != "" {
				text += " (default " + d.def + ")"
			}
			rows = append(rows, [2]string{left, text})
		}
	}
	if path == "" {
		rows = append(rows, [2]string{"--version", "print the version (as signet version)"})
	}
	rows = append(rows, [2]string{"-h, --help", helpFlag})
	writeRows(&b, rows)
	b.WriteString("\nExamples:\n")
	for _, e := range p.examples {
		for i, line := range strings.Split(e, "\n") {
			if i == 0 {
				b.WriteString("  signet " + line + "\n")
			} else {
				b.WriteString("  " + line + "\n")
			}
		}
	}
	exit := p.exit
	if exit == "" {
		exit = exitCommon
	}
	b.WriteString("\nExit status:\n")
	for _, line := range wrap(exit, 76) {
		b.WriteString("  " + line + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// maxLeft is the widest flag column; a longer flag puts its text on the
// next line.
const maxLeft = 24

// writeRows writes two-column rows ("--key FILE", "private key ...") with
// the text wrapped to 80 columns under its column.
func writeRows(b *strings.Builder, rows [][2]string) {
	width := 0
	for _, r := range rows {
		if len(r[0]) <= maxLeft {
			width = max(width, len(r[0]))
		}
	}
	indent := strings.Repeat(" ", 2+width+2)
	for _, r := range rows {
		lines := wrap(r[1], 80-len(indent))
		if len(r[0]) > width {
			b.WriteString("  " + r[0] + "\n")
		} else if len(lines) > 0 {
			fmt.Fprintf(b, "  %-*s  %s\n", width, r[0], lines[0])
			lines = lines[1:]
		}
		for _, l := range lines {
			b.WriteString(indent + l + "\n")
		}
	}
}

// wrap breaks s into lines of at most width bytes at spaces (a longer word
// gets a line of its own).
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) <= width:
			line += " " + w
		default:
			lines = append(lines, line)
			line = w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
