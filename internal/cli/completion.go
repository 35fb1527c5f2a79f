package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
)

var completionPage = &page{
	summary: "print a shell completion script (bash, zsh or fish)",
	usage:   []string{"completion bash|zsh|fish"},
	about: `Prints a script that completes signet's commands, subcommands and flags in
the shell, and file names where a flag or argument takes a file. It is made
from the same command and flag tables as the help pages.

  bash   source <(signet completion bash)            (in ~/.bashrc), or
         signet completion bash > /etc/bash_completion.d/signet
  zsh    signet completion zsh > "${fpath[1]}/_signet"  (then restart zsh), or
         source <(signet completion zsh)             (in ~/.zshrc, after compinit)
  fish   signet completion fish > ~/.config/fish/completions/signet.fish`,
	operand:  "bash|zsh|fish",
	examples: []string{"completion bash > /etc/bash_completion.d/signet", "completion fish > ~/.config/fish/completions/signet.fish"},
}

// CompletionCommand is "signet completion SHELL".
type CompletionCommand struct{ Env }

// Run prints the script.
func (c *CompletionCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseArgs(newFlagSet("completion"), completionPage, &c.Env, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("expected one SHELL (bash, zsh or fish), got %d arguments (see 'signet completion -h')", len(pos))
	}
	cs := completions(tree())
	switch pos[0] {
	case "bash":
		return writeBash(c.Stdout, cs)
	case "zsh":
		return writeZsh(c.Stdout, cs)
	case "fish":
		return writeFish(c.Stdout, cs)
	}
	return fmt.Errorf("unknown shell %q: bash, zsh or fish", pos[0])
}

// compCmd is what completion knows of one command path ("" is signet
// itself): a group's subcommands, or a command's flags and operand.
type compCmd struct {
	path    string
	summary string
	subs    []*compCmd
	flags   []flagDoc
	operand string
}

// completions walks the command tree into the list of every command path,
// in tree order, parents first.
func completions(root *node) []*compCmd {
	var out []*compCmd
	var walk func(n *node, path string) *compCmd
	walk = func(n *node, path string) *compCmd {
		c := &compCmd{path: path}
		out = append(out, c)
		if n.cmd != nil {
			fs, p := n.describe()
			c.summary, c.operand = p.summary, p.operand
			for _, f := range fs.flags() {
				c.flags = append(c.flags, docOf(f))
			}
			return c
		}
		if path != "" {
			c.summary = n.group.summary
		}
		for _, s := range n.subs {
			c.subs = append(c.subs, walk(s, strings.TrimSpace(path+" "+s.name)))
		}
		return c
	}
	walk(root, "")
	return out
}

// name is the last word of the path.
func (c *compCmd) name() string { return c.path[strings.LastIndexByte(c.path, ' ')+1:] }

// valueKind says how to complete a flag's value or an operand: "file",
// "dir", "words" (choices), "commands" (signet's commands) or "" (nothing
// to offer).
func valueKind(arg string) string {
	switch {
	case arg == "DIR":
		return "dir"
	case strings.HasSuffix(arg, "FILE"):
		return "file"
	case arg == "COMMAND":
		return "commands"
	case choices(arg) != nil:
		return "words"
	}
	return ""
}

// short is a one-line description: a flag's text up to its first clause.
func short(s string) string {
	for _, sep := range []string{"; ", ": ", " (", ", "} {
		if i := strings.Index(s, sep); i > 0 {
			s = s[:i]
		}
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// flagNames are a command's flags as typed, with the help flags.
func (c *compCmd) flagNames() []string {
	var out []string
	for _, f := range c.flags {
		out = append(out, "--"+f.name)
	}
	if c.path == "" {
		out = append(out, "--version")
	}
	return append(out, "-h", "--help")
}

// subNames are a group's subcommands.
func (c *compCmd) subNames() []string {
	var out []string
	for _, s := range c.subs {
		out = append(out, s.name())
	}
	return out
}

// paths are every command path but signet's own, as shell case patterns
// in quotes.
func paths(cs []*compCmd, quote func(string) string) string {
	var out []string
	for _, c := range cs {
		if c.path != "" {
			out = append(out, quote(c.path))
		}
	}
	return strings.Join(out, "|")
}

// shQuote quotes s for bash and zsh: in single quotes, each quote inside
// closed, escaped and reopened.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// writeValueCase writes the "case $prev" of a bash or zsh script that
// completes the value of c's flags. arm gives the pattern and action that
// completes a flag's value, by its valueKind, or "" for a value with
// nothing to offer; plain is a format for one arm that ends completion for
// all of those ("%s" is their names, '|'-separated).
func writeValueCase(b *strings.Builder, c *compCmd, arm func(f flagDoc, kind string) string, plain string) {
	var none []string
	b.WriteString("            case \"$prev\" in\n")
	for _, f := range c.flags {
		if f.arg == "" {
			continue
		}
		if a := arm(f, valueKind(f.arg)); a != "" {
			b.WriteString("                " + a + "\n")
		} else {
			none = append(none, "--"+f.name)
		}
	}
	if len(none) > 0 {
		b.WriteString("                " + fmt.Sprintf(plain, strings.Join(none, "|")) + "\n")
	}
	b.WriteString("            esac\n")
}

func writeBash(w io.Writer, cs []*compCmd) error {
	var b strings.Builder
	b.WriteString(`# bash completion for signet, generated by "signet completion bash".
# Load it with: source <(signet completion bash)

_signet() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmdpath="" next i
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        next="$cmdpath${cmdpath:+ }${COMP_WORDS[i]}"
        case "$next" in
            ` + paths(cs, shQuote) + `) cmdpath=$next ;;
            *) break ;;
        esac
    done
    case "$cmdpath" in
`)
	top := strings.Join(cs[0].subNames(), " ")
	for _, c := range cs {
		fmt.Fprintf(&b, "        %s)\n", shQuote(c.path))
		if c.subs != nil {
			fmt.Fprintf(&b, "            if [[ $cur == -* ]]; then\n                COMPREPLY=($(compgen -W %s -- \"$cur\"))\n",
				shQuote(strings.Join(c.flagNames(), " ")))
			fmt.Fprintf(&b, "            else\n                COMPREPLY=($(compgen -W %s -- \"$cur\"))\n            fi ;;\n",
				shQuote(strings.Join(c.subNames(), " ")))
			continue
		}
		writeValueCase(&b, c, func(f flagDoc, kind string) string {
			switch kind {
			case "file", "dir":
				return fmt.Sprintf("--%s) _signet_%ss ; return ;;", f.name, kind)
			case "words":
				return fmt.Sprintf("--%s) COMPREPLY=($(compgen -W %s -- \"$cur\")) ; return ;;", f.name, shQuote(strings.Join(choices(f.arg), " ")))
			}
			return ""
		}, "%s) return ;;")
		fmt.Fprintf(&b, "            if [[ $cur == -* ]]; then\n                COMPREPLY=($(compgen -W %s -- \"$cur\"))\n",
			shQuote(strings.Join(c.flagNames(), " ")))
		switch valueKind(c.operand) {
		case "file":
			b.WriteString("            else\n                _signet_files\n")
		case "dir":
			b.WriteString("            else\n                _signet_dirs\n")
		case "words":
			fmt.Fprintf(&b, "            else\n                COMPREPLY=($(compgen -W %s -- \"$cur\"))\n", shQuote(strings.Join(choices(c.operand), " ")))
		case "commands":
			fmt.Fprintf(&b, "            else\n                COMPREPLY=($(compgen -W %s -- \"$cur\"))\n", shQuote(top))
		}
		b.WriteString("            fi ;;\n")
	}
	b.WriteString(`    esac
}

_signet_files() {
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
}

_signet_dirs() {
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -d -- "$cur"))
}

complete -F _signet signet
`)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeZsh(w io.Writer, cs []*compCmd) error {
	var b strings.Builder
	b.WriteString(`#compdef signet
# zsh completion for signet, generated by "signet completion zsh".
# Install it as _signet in a directory of $fpath, or: source <(signet completion zsh)

_signet() {
    local cur=${words[CURRENT]} prev=${words[CURRENT-1]}
    local cmdpath="" next i
    local -a items
    for ((i = 2; i < CURRENT; i++)); do
        next="$cmdpath${cmdpath:+ }${words[i]}"
        case "$next" in
            (` + paths(cs, shQuote) + `) cmdpath=$next ;;
            (*) break ;;
        esac
    done
    case "$cmdpath" in
`)
	describe := func(indent, tag string, items [][2]string) {
		var q []string
		for _, it := range items {
			q = append(q, shQuote(strings.ReplaceAll(it[0], ":", `\:`)+":"+it[1]))
		}
		fmt.Fprintf(&b, "%sitems=(%s)\n%s_describe -t %s %s items\n", indent, strings.Join(q, " "), indent, tag, shQuote(tag))
	}
	flagItems := func(c *compCmd) [][2]string {
		var out [][2]string
		for _, f := range c.flags {
			out = append(out, [2]string{"--" + f.name, short(f.usage)})
		}
		if c.path == "" {
			out = append(out, [2]string{"--version", "print the version"})
		}
		return append(out, [2]string{"-h", helpFlag}, [2]string{"--help", helpFlag})
	}
	var top [][2]string
	for _, s := range cs[0].subs {
		top = append(top, [2]string{s.name(), s.summary})
	}
	for _, c := range cs {
		fmt.Fprintf(&b, "        (%s)\n", shQuote(c.path))
		if c.subs != nil {
			var subs [][2]string
			for _, s := range c.subs {
				subs = append(subs, [2]string{s.name(), s.summary})
			}
			b.WriteString("            if [[ $cur == -* ]]; then\n")
			describe("                ", "flags", flagItems(c))
			b.WriteString("            else\n")
			describe("                ", "commands", subs)
			b.WriteString("            fi ;;\n")
			continue
		}
		writeValueCase(&b, c, func(f flagDoc, kind string) string {
			switch kind {
			case "file":
				return fmt.Sprintf("(--%s) _files ; return ;;", f.name)
			case "dir":
				return fmt.Sprintf("(--%s) _files -/ ; return ;;", f.name)
			case "words":
				return fmt.Sprintf("(--%s) compadd -- %s ; return ;;", f.name, strings.Join(choices(f.arg), " "))
			}
			return ""
		}, "(%s) _message "+shQuote("a value")+" ; return ;;")
		b.WriteString("            if [[ $cur == -* ]]; then\n")
		describe("                ", "flags", flagItems(c))
		switch valueKind(c.operand) {
		case "file":
			b.WriteString("            else\n                _files\n")
		case "dir":
			b.WriteString("            else\n                _files -/\n")
		case "words":
			fmt.Fprintf(&b, "            else\n                compadd -- %s\n", strings.Join(choices(c.operand), " "))
		case "commands":
			b.WriteString("            else\n")
			describe("                ", "commands", top)
		}
		b.WriteString("            fi ;;\n")
	}
	b.WriteString(`    esac
}

if [[ $funcstack[1] == _signet ]]; then
    _signet "$@"  # autoloaded from $fpath
else
    compdef _signet signet  # sourced
fi
`)
	_, err := io.WriteString(w, b.String())
	return err
}

// fishQuote quotes s for fish: single quotes, with \ and ' escaped.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func writeFish(w io.Writer, cs []*compCmd) error {
	var b strings.Builder
	var cases []string
	for _, c := range cs {
		if c.path != "" {
			cases = append(cases, fishQuote(c.path))
		}
	}
	b.WriteString(`# fish completion for signet, generated by "signet completion fish".
# Install it with: signet completion fish > ~/.config/fish/completions/signet.fish

# __signet_path prints the command path typed so far ("", "sign", "token create").
function __signet_path
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmdpath ""
    for w in $tokens
        set -l next (string trim -- "$cmdpath $w")
        switch $next
            case ` + strings.Join(cases, " ") + `
                set cmdpath $next
            case '*'
                break
        end
    end
    echo $cmdpath
end

function __signet_at
    test (__signet_path) = "$argv[1]"
end

complete -c signet -f
`)
	for _, c := range cs {
		at := fishQuote("__signet_at " + fishQuote(c.path))
		if c.path == "" {
			fmt.Fprintf(&b, "complete -c signet -n %s -l version -d %s\n", at, fishQuote("print the version"))
		}
		for _, s := range c.subs {
			fmt.Fprintf(&b, "complete -c signet -n %s -a %s -d %s\n", at, fishQuote(s.name()), fishQuote(s.summary))
		}
		for _, f := range c.flags {
			line := fmt.Sprintf("complete -c signet -n %s -l %s -d %s", at, f.name, fishQuote(short(f.usage)))
			if f.arg != "" {
				switch valueKind(f.arg) {
				case "file":
					line += " -r -F"
				case "dir":
					line += " -x -a '(__fish_complete_directories)'"
				case "words":
					line += " -x -a " + fishQuote(strings.Join(choices(f.arg), " "))
				default:
					line += " -x"
				}
			}
			b.WriteString(line + "\n")
		}
		fmt.Fprintf(&b, "complete -c signet -n %s -s h -l help -d %s\n", at, fishQuote(helpFlag))
		switch valueKind(c.operand) {
		case "file":
			fmt.Fprintf(&b, "complete -c signet -n %s -F\n", at)
		case "dir":
			fmt.Fprintf(&b, "complete -c signet -n %s -a '(__fish_complete_directories)'\n", at)
		case "words":
			fmt.Fprintf(&b, "complete -c signet -n %s -a %s\n", at, fishQuote(strings.Join(choices(c.operand), " ")))
		case "commands":
			for _, s := range cs[0].subs {
				fmt.Fprintf(&b, "complete -c signet -n %s -a %s -d %s\n", at, fishQuote(s.name()), fishQuote(s.summary))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
