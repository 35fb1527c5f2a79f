package config_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/config"
)

func TestExample(t *testing.T) {
	c, err := config.Parse([]byte(config.Example()), env(nil))
	if err != nil {
		t.Fatalf("Parse(Example()): %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Example().Validate() = %v; want nil", err)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("Example().Warnings() = %v; want none", w)
	}
}

// TestExampleHasEveryKey checks that the example documents every key of
// the schema, live or in a comment.
func TestExampleHasEveryKey(t *testing.T) {
	example := config.Example()
	for _, key := range yamlKeys(reflect.TypeFor[config.Config]()) {
		if !strings.Contains(example, key+":") {
			t.Errorf("Example() does not mention %q", key)
		}
	}
}

// yamlKeys lists the yaml keys of t and of the structs it holds.
func yamlKeys(t reflect.Type) []string {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return yamlKeys(t.Elem())
	case reflect.Struct:
	default:
		return nil
	}
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		if key := f.Tag.Get("yaml"); key != "" {
			keys = append(keys, key)
			keys = append(keys, yamlKeys(f.Type)...)
		}
	}
	return keys
}

// TestExampleAlternatives checks that the commented-out blocks of the
// example are valid too: uncommenting each alternative listener and origin
// (in place of the live one) gives a valid config.
func TestExampleAlternatives(t *testing.T) {
	// uncomment removes the "# " of the commented lines from the nth (from
	// 0) that starts with "# "+first to the next that contains last.
	uncomment := func(lines []string, first string, nth int, last string) []string {
		out := append([]string(nil), lines...)
		in := false
		for i, l := range out {
			trimmed := strings.TrimLeft(l, " ")
			if !in && strings.HasPrefix(trimmed, "# "+first) {
				if nth--; nth < 0 {
					in = true
				}
			}
			if in && strings.HasPrefix(trimmed, "# ") {
				out[i] = l[:len(l)-len(trimmed)] + strings.TrimPrefix(trimmed, "# ")
			}
			if in && strings.Contains(trimmed, last) {
				break
			}
		}
		return out
	}
	lines := strings.Split(config.Example(), "\n")
	for _, tc := range []struct {
		name, first string
		nth         int
		last        string
		drop        string                    // a live line the alternative replaces
		took        func(*config.Config) bool // whether the alternative is in effect
	}{
		{"tls listener", "- address: :443", 0, "key_file:", "",
			func(c *config.Config) bool { return len(c.Listeners) == 2 && c.Listeners[1].TLS != nil }},
		{"acme listener", "- address: :443", 1, "directory_url:", "",
			func(c *config.Config) bool { return len(c.Listeners) == 2 && c.Listeners[1].ACME != nil }},
		{"redirecting listener", "- address: :80", 0, "redirect_to_https:", "",
			func(c *config.Config) bool { return len(c.Listeners) == 2 && c.Listeners[1].RedirectToHTTPS }},
		{"trusted proxy", "- 10.0.0.0/8", 0, "10.0.0.0/8", "trusted_proxies: []",
			func(c *config.Config) bool { return len(c.TrustedProxies) == 1 }},
		{"s3 origin", "type: s3", 0, "session_token:", "type: dir",
			func(c *config.Config) bool { return c.Distributions[0].Origin.S3 != nil }},
		{"http origin", "type: http", 0, "secret: ", "type: dir",
			func(c *config.Config) bool { return c.Distributions[0].Origin.HTTP != nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alt := uncomment(lines, tc.first, tc.nth, tc.last)
			if tc.drop != "" {
				for i, l := range alt {
					switch strings.TrimSpace(strings.SplitN(l, "#", 2)[0]) {
					case "type: dir": // and its dir: {path} lines
						alt = append(alt[:i:i], alt[i+3:]...)
					case tc.drop:
						alt[i] = "trusted_proxies:"
					default:
						continue
					}
					break
				}
			}
			doc := strings.Join(alt, "\n")
			c, err := config.Parse([]byte(doc), env(map[string]string{"S3_ACCESS_KEY_ID": "x", "S3_SECRET_ACCESS_KEY": "y", "ORIGIN_SECRET": "z"}))
			if err == nil {
				err = c.Validate()
			}
			if err != nil {
				t.Fatalf("example with the %s uncommented: %v\n%s", tc.name, err, doc)
			}
			if !tc.took(c) {
				t.Errorf("example with the %s uncommented does not have it:\n%s", tc.name, doc)
			}
		})
	}
}
