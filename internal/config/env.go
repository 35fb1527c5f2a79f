package config

import (
	"errors"
	"fmt"
	"strings"
)

// expand replaces ${NAME} with the value of NAME from getenv, and
// ${NAME:-default} with that value or, when NAME is unset or empty, with
// default (taken literally, up to the first '}'). $$ is a literal $, and a
// $ before anything else stays as it is. An unset NAME without a default,
// a bad name and an unclosed ${ are errors; their text names the variable,
// never a value.
func expand(s string, getenv func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
			continue
		case '{':
		default:
			b.WriteByte('$')
			s = s[i+1:]
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", errors.New("unclosed ${ (write $$ for a literal $)")
		}
		ref := s[i+2 : i+end]
		s = s[i+end+1:]
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validEnvName(name) {
			return "", errors.New("${...} does not hold a variable name: write ${NAME} or ${NAME:-default}, NAME of letters, digits and '_' (or $$ for a literal $)")
		}
		v, ok := getenv(name)
		switch {
		case hasDef && v == "":
			v = def
		case !ok:
			return "", fmt.Errorf("environment variable %s is not set (write ${%s:-} to allow it empty)", name, name)
		}
		b.WriteString(v)
	}
}

// validEnvName reports whether s is a POSIX shell variable name.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
