package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The decoder parses YAML into a node tree with go.yaml.in/yaml/v3 and then
// walks the tree against the Go types itself, so that every unknown key,
// repeated key and type error is reported with its line and field path,
// all in one pass. (yaml's own Decode stops at some problems, reports
// unknown fields without their path, and accepts duplicate keys in some
// positions.)
//
// Rules of the walk:
//   - A key with no value (null, ~) is the same as leaving the key out: the
//     default stays. This keeps a section whose keys are all commented out
//     harmless.
//   - A list replaces the default list. Each new list element starts from
//     its type's defaults (setDefaults), then the file's keys overlay it.
//   - Anchors and aliases work; merge keys (<<) do not. The walk gives up
//     after maxAliased nodes reached through aliases, so a "billion laughs"
//     document cannot make it run long. (Without aliases the walk is linear
//     in the size of the document.)
//   - String fields take any scalar but true and false (quote those), and
//     ${NAME} in them is expanded. No message quotes a string value: it
//     could be a secret.
type decoder struct {
	getenv        func(string) (string, bool)
	lines         map[string]int // field path -> line it was set on
	problems      []error
	inlineSecrets []*Problem
	// failed holds the field paths whose value is not what the file says:
	// a value that did not decode (the default stays), or the key a
	// misspelt key was probably meant to be. Validate reports nothing
	// at or under them, so one mistake gives one problem.
	failed  map[string]bool
	aliased int  // nodes walked through aliases so far
	inAlias int  // depth of aliases around the current node
	stopped bool // too many problems or nodes: stop walking
	// whole is false when the document could not be walked as a whole
	// (a syntax error, a second document, too many problems): what was
	// decoded then is too partial to validate.
	whole bool
}

const (
	maxProblems = 100
	maxAliased  = 1 << 16 // nodes reached through aliases; real configs use a few dozen
)

// defaulter is a list element type with defaults other than its zero value.
type defaulter interface{ setDefaults() }

var (
	durationType = reflect.TypeFor[Duration]()
	prefixType   = reflect.TypeFor[netip.Prefix]()
	sizeType     = reflect.TypeFor[Size]()
)

// add records a problem at node n (nil: no line).
func (d *decoder) add(n *yaml.Node, path, format string, args ...any) {
	if d.stopped {
		return
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	if len(d.problems) == maxProblems {
		d.problems = append(d.problems, &Problem{Line: line, Msg: fmt.Sprintf("more than %d problems; stopping here", maxProblems)})
		d.stopped = true
		return
	}
	d.problems = append(d.problems, &Problem{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
	d.failed[path] = true
}

// document decodes data, one YAML document, into c.
func (d *decoder) document(data []byte, c *Config) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) { // empty, or only comments
			d.whole = true
		} else {
			d.syntax(err)
		}
		return
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntax(err)
		return
	default:
		d.add(&next, "", "a second YAML document (after ---): the config is one document")
		return
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		d.add(&doc, "", "not a YAML document")
		return
	}
	root := doc.Content[0]
	if !isNull(root) {
		d.value(root, "", reflect.ValueOf(c).Elem())
	}
	d.whole = !d.stopped && !d.failed[""]
}

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntax records a YAML syntax error, taking its line out of the text.
// The yaml package gives the line where the enclosing block or flow
// collection starts, or the one before, rather than the line of the
// mistake, so the message says "at or after".
func (d *decoder) syntax(err error) {
	msg := err.Error()
	if m := syntaxLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		d.problems = append(d.problems, &Problem{Line: line, Msg: "YAML syntax error at or after this line: " + m[2]})
		return
	}
	d.problems = append(d.problems, &Problem{Msg: "YAML syntax error: " + strings.TrimPrefix(msg, "yaml: ")})
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// value decodes n into v, whose field path is path.
func (d *decoder) value(n *yaml.Node, path string, v reflect.Value) {
	if d.stopped {
		return
	}
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return
		}
		d.inAlias++
		defer func() { d.inAlias-- }()
		d.value(n.Alias, path, v)
		return
	}
	if d.inAlias > 0 {
		if d.aliased++; d.aliased > maxAliased {
			d.add(n, path, "the document is too large once its aliases are expanded")
			d.stopped = true
			return
		}
	}
	if _, ok := d.lines[path]; !ok {
		d.lines[path] = n.Line
	}
	if isNull(n) {
		return // as if absent: the default stays
	}
	if tag := n.ShortTag(); !knownTag(tag) {
		d.add(n, path, "unsupported YAML tag %s", strconv.Quote(tag))
		return
	}
	switch v.Type() {
	case durationType:
		d.text(n, path, v, func(s string) (any, error) {
			if n.ShortTag() == "!!int" && s != "0" {
				return nil, fmt.Errorf("%s has no unit: write %ss, or a duration such as 15m, 12h or 30d", s, s)
			}
			return ParseDuration(s)
		})
		return
	case prefixType:
		d.text(n, path, v, func(s string) (any, error) { return parsePrefix(s) })
		return
	case sizeType:
		d.text(n, path, v, func(s string) (any, error) { return ParseSize(s) })
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(n, path, v)
	case reflect.Pointer:
		if n.Kind != yaml.MappingNode { // all our pointers are to structs
			d.mismatch(n, path, v.Type())
			return
		}
		if v.IsNil() {
			v.Set(newValue(v.Type().Elem()).Addr())
		}
		d.value(n, path, v.Elem())
	case reflect.Slice:
		d.list(n, path, v)
	case reflect.Map:
		d.mapping(n, path, v)
	case reflect.String:
		d.str(n, path, v)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.mismatch(n, path, v.Type())
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.mismatch(n, path, v.Type())
			return
		}
		v.SetBool(b)
	case reflect.Int:
		var i int64
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil || v.OverflowInt(i) {
			d.mismatch(n, path, v.Type())
			return
		}
		v.SetInt(i)
	default:
		// Unreachable with the types of this package; a new field of a new
		// kind needs a case above, and every test would report this.
		d.add(n, path, "internal error: no decoder for %s", v.Type())
	}
}

// knownTag reports whether tag is one of YAML's standard tags; custom tags
// (!foo) mean nothing to the config.
func knownTag(tag string) bool {
	switch tag {
	case "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!map", "!!seq":
		return true
	}
	return false
}

// newValue returns a new T with its defaults.
func newValue(t reflect.Type) reflect.Value {
	p := reflect.New(t)
	if dv, ok := p.Interface().(defaulter); ok {
		dv.setDefaults()
	}
	return p.Elem()
}

// field is a struct field and the key that names it.
type field struct {
	key    string
	index  int
	secret bool
}

// fieldsOf lists t's keys in declaration order.
func fieldsOf(t reflect.Type) []field {
	var fs []field
	for i := range t.NumField() {
		f := t.Field(i)
		if key := f.Tag.Get("yaml"); key != "" {
			fs = append(fs, field{key: key, index: i, secret: f.Tag.Get("secret") != ""})
		}
	}
	return fs
}

func (d *decoder) structure(n *yaml.Node, path string, v reflect.Value) {
	fields := fieldsOf(v.Type())
	d.entries(n, path, v.Type(), func(k, val *yaml.Node) {
		j := slices.IndexFunc(fields, func(f field) bool { return f.key == k.Value })
		if j < 0 {
			if why, ok := removedKeys[mapPath(path, k.Value)]; ok {
				d.add(k, mapPath(path, k.Value), "%s", why)
				return
			}
			d.unknownKey(n, k, path, fields)
			return
		}
		f := fields[j]
		p := join(path, f.key)
		d.lines[p] = k.Line
		d.value(val, p, v.Field(f.index))
		if f.secret && val.Kind == yaml.ScalarNode && val.Value != "" && !strings.Contains(val.Value, "${") {
			d.inlineSecrets = append(d.inlineSecrets, &Problem{Line: val.Line, Path: p,
				Msg: "secret written into the file; prefer ${NAME} from the environment"})
		}
	})
}

// entries calls fn for each entry of the mapping n, in document order,
// whose key is usable: a plain scalar, not repeated, not a merge key. A
// node that is no mapping is a mismatch for t.
func (d *decoder) entries(n *yaml.Node, path string, t reflect.Type, fn func(k, val *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		d.mismatch(n, path, t)
		return
	}
	seen := map[string]int{} // key -> line
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		switch first, repeated := seen[k.Value]; {
		case k.Kind != yaml.ScalarNode:
			d.add(k, path, "a key must be a plain name, not %s", describe(k))
		case k.ShortTag() == "!!merge":
			d.add(k, path, "merge keys (<<) are not supported: write the keys out, or use an alias (*name) for the whole value")
		case repeated:
			d.add(k, mapPath(path, k.Value), "repeated key (first set on line %d)", first)
		default:
			seen[k.Value] = k.Line
			fn(k, n.Content[i+1])
		}
	}
}

// removedKeys are keys that earlier versions read, by field path, and what
// to do instead; an old file gets this rather than "unknown key".
var removedKeys = map[string]string{
	"signing": `no longer read (nothing used it): sign a link with "signet sign --key FILE --key-id ID URL", ` +
		`or give a distribution a signer for the signing API; zero-config "signet serve" prints its own demo link`,
}

// unknownKey reports a key k of the mapping n that is none of fields,
// naming the closest one or listing them all. When the mapping lacks the
// closest one, it is marked failed too: a key written wrongly is a key not
// set, and "required" would say the same twice. (When the mapping has it
// as well, its own problems are reported as any others.)
func (d *decoder) unknownKey(n, k *yaml.Node, path string, fields []field) {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	if best := Closest(k.Value, keys); best != "" {
		d.add(k, mapPath(path, k.Value), "unknown key; did you mean %s?", best)
		if !hasKey(n, best) {
			d.failed[join(path, best)] = true
		}
		return
	}
	d.add(k, mapPath(path, k.Value), "unknown key; the keys here are %s", strings.Join(keys, ", "))
}

// hasKey reports whether the mapping n has the key.
func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Kind == yaml.ScalarNode && n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// Closest returns the option nearest to s, ignoring case, when it is near
// enough (an edit distance below 3) to be what was meant; "" otherwise.
func Closest(s string, options []string) string {
	best, bestDist := "", 3
	for _, o := range options {
		if dist := editDistance(strings.ToLower(s), strings.ToLower(o)); dist < bestDist {
			best, bestDist = o, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func (d *decoder) list(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.mismatch(n, path, v.Type())
		return
	}
	s := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = item.Line
		e := newValue(v.Type().Elem())
		d.value(item, p, e)
		s = reflect.Append(s, e)
	}
	v.Set(s)
}

// mapping decodes a mapping of names (key_groups), replacing v.
func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	d.entries(n, path, v.Type(), func(k, val *yaml.Node) {
		p := mapPath(path, k.Value)
		d.lines[p] = k.Line
		e := newValue(v.Type().Elem())
		d.value(val, p, e)
		m.SetMapIndex(reflect.ValueOf(k.Value), e)
	})
	if n.Kind == yaml.MappingNode {
		v.Set(m)
	}
}

func (d *decoder) str(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.mismatch(n, path, v.Type())
		return
	}
	switch n.ShortTag() {
	case "!!str", "!!int", "!!float", "!!timestamp":
	default: // !!bool: true and false are not strings unless quoted
		d.add(n, path, "want a string, got %s (quote it: \"%s\")", describe(n), n.Value)
		return
	}
	s, err := expand(n.Value, d.getenv)
	if err != nil {
		d.add(n, path, "%v", err)
		return
	}
	v.SetString(s)
}

// text decodes a scalar that parse turns into v's type.
func (d *decoder) text(n *yaml.Node, path string, v reflect.Value, parse func(string) (any, error)) {
	if n.Kind != yaml.ScalarNode {
		d.mismatch(n, path, v.Type())
		return
	}
	x, err := parse(n.Value)
	if err != nil {
		d.add(n, path, "%v", err)
		return
	}
	v.Set(reflect.ValueOf(x))
}

// parsePrefix reads a CIDR prefix, or one address as a single-address
// prefix. A prefix with host bits set is refused: it is a typo more often
// than not.
func parsePrefix(s string) (netip.Prefix, error) {
	bad := fmt.Errorf("%s is not an IP prefix such as 10.0.0.0/8 or an address such as 192.0.2.7", strconv.Quote(s))
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, bad
		}
		if m := p.Masked(); m != p {
			return netip.Prefix{}, fmt.Errorf("%s has bits set after the /%d: write %s", strconv.Quote(s), p.Bits(), m)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, bad
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// mismatch reports a value of the wrong kind for t. It quotes a string
// scalar: t is never a string here, so the value is not a secret field's.
func (d *decoder) mismatch(n *yaml.Node, path string, t reflect.Type) {
	got := describe(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && len(n.Value) <= 40 {
		got = strconv.Quote(n.Value)
	}
	d.add(n, path, "want %s, got %s", want(t), got)
}

// want describes what a Go type takes in YAML.
func want(t reflect.Type) string {
	switch t {
	case durationType:
		return "a duration such as 90s, 15m, 12h or 30d"
	case prefixType:
		return "an IP prefix such as 10.0.0.0/8"
	case sizeType:
		return "a size such as 4096, 64MiB or 10GiB"
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Struct:
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		var keys []string
		for _, f := range fieldsOf(t) {
			keys = append(keys, f.key)
		}
		return "a mapping with keys " + strings.Join(keys, ", ")
	case reflect.Map:
		return "a mapping of names"
	case reflect.Slice:
		return "a list (write [item] for a single item)"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "a whole number"
	}
	return t.String()
}

// describe names what a node holds. A string's value is left out (it could
// be a secret); other scalars are shown.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!bool", "!!int", "!!float":
			if len(n.Value) <= 32 {
				return n.Value
			}
			return "a number"
		case "!!timestamp":
			return "a timestamp"
		}
	}
	return "something else"
}

// join appends a key to a field path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapPath appends a map key (a name the user chose) to a field path:
// key_groups.main, or key_groups["odd name"] when the name is not a plain
// identifier.
func mapPath(path, key string) string {
	for _, c := range []byte(key) {
		if !isNameByte(c) {
			return path + "[" + strconv.Quote(key) + "]"
		}
	}
	if key == "" {
		return path + `[""]`
	}
	return join(path, key)
}

// isNameByte reports whether c may appear in a name: A-Z a-z 0-9 '-' '_'.
func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
