package signapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/signapi"
)

// TestOpenAPI holds openapi.json against the handler: it is OpenAPI 3,
// lists exactly the routes and error codes the handler has, every request
// example is valid against its schema and accepted by the handler, and the
// answers match the response schemas.
func TestOpenAPI(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	doc := &openAPIDoc{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc.root); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if v, _ := doc.root["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi = %q; want 3.x", v)
	}
	for _, key := range []string{"info", "paths", "components"} {
		if _, ok := doc.root[key].(map[string]any); !ok {
			t.Errorf("the document has no %s object", key)
		}
	}
	if refs := doc.brokenRefs(doc.root); len(refs) > 0 {
		t.Errorf("unresolved $refs: %v", refs)
	}

	// Security: bearer, required by default, waived for the document.
	bearer := doc.at("components", "securitySchemes", "bearerAuth")
	if bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("bearerAuth = %v; want type http, scheme bearer", bearer)
	}
	if sec := fmt.Sprint(doc.root["security"]); sec != "[map[bearerAuth:[]]]" {
		t.Errorf("security = %s; want bearerAuth", sec)
	}

	// Routes, both ways.
	routes := signapi.Routes()
	paths := doc.at("paths")
	for path, method := range routes {
		ops, ok := paths[path].(map[string]any)
		if !ok {
			t.Errorf("the handler serves %s, the document does not list it", path)
			continue
		}
		if _, ok := ops[strings.ToLower(method)]; !ok || len(ops) != 1 {
			t.Errorf("%s: the document has methods %v; the handler takes only %s", path, keys(ops), method)
		}
	}
	for path := range paths {
		if _, ok := routes[path]; !ok {
			t.Errorf("the document lists %s, the handler does not serve it", path)
		}
	}

	// Error codes, both ways.
	var enum []string
	for _, v := range doc.at("components", "schemas", "Error", "properties", "code")["enum"].([]any) {
		enum = append(enum, v.(string))
	}
	codes := signapi.ErrorCodes()
	slices.Sort(enum)
	slices.Sort(codes)
	if !slices.Equal(enum, codes) {
		t.Errorf("document's error codes = %v; handler's = %v", enum, codes)
	}

	f := newFixture(t, fixtureOptions{})
	served := f.do(httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/openapi.json", nil))
	if served.status != 200 || !bytes.Equal(served.body, raw) {
		t.Errorf("GET /v1/openapi.json = %d, %d bytes; want 200 and the file's %d bytes", served.status, len(served.body), len(raw))
	}

	// Every request example: valid against the schema, accepted by the
	// handler, and answered as the 200 schema says.
	examples := 0
	for path := range routes {
		op, _ := paths[path].(map[string]any)["post"].(map[string]any)
		if op == nil {
			continue
		}
		media := doc.in(op, "requestBody", "content", "application/json")
		reqSchema, _ := media["schema"].(map[string]any)
		okSchema, _ := doc.in(op, "responses", "200", "content", "application/json")["schema"].(map[string]any)
		exs, _ := media["examples"].(map[string]any)
		if len(exs) == 0 {
			t.Errorf("%s has no request examples", path)
		}
		for name, ex := range exs {
			examples++
			value := ex.(map[string]any)["value"]
			t.Run(path+"/"+name, func(t *testing.T) {
				if err := doc.validate(reqSchema, value, "request"); err != nil {
					t.Errorf("the example does not match its schema: %v", err)
				}
				body, _ := json.Marshal(value)
				r := f.post(path, f.token, string(body))
				if r.status != 200 {
					t.Fatalf("POST %s %s = %d %s; want 200", path, body, r.status, r.body)
				}
				var got any
				d := json.NewDecoder(bytes.NewReader(r.body))
				d.UseNumber()
				if err := d.Decode(&got); err != nil {
					t.Fatal(err)
				}
				if err := doc.validate(okSchema, got, "response"); err != nil {
					t.Errorf("the answer %s does not match the 200 schema: %v", r.body, err)
				}
				if strings.Contains(string(r.body), `"error"`) {
					t.Errorf("the answer %s has an error", r.body)
				}
				checkLinks(t, got)
			})
		}
	}
	if examples < 5 {
		t.Errorf("%d request examples; want at least 5", examples)
	}

	// Error answers match ErrorResponse, and their codes are documented
	// under the status they come with.
	errSchema := doc.at("components", "schemas", "ErrorResponse")
	for _, path := range []string{"/v1/sign/url", "/v1/sign/cookies"} {
		for _, tc := range refusals {
			r := f.post(path, f.token, tc.body)
			var got any
			json.Unmarshal(r.body, &got)
			if err := doc.validate(errSchema, got, "error"); err != nil {
				t.Errorf("%s %s: the answer %s does not match ErrorResponse: %v", path, tc.name, r.body, err)
			}
			status := fmt.Sprint(r.status)
			if _, ok := doc.at("paths", path, "post", "responses")[status]; !ok {
				t.Errorf("%s %s: status %s is not documented", path, tc.name, status)
			}
		}
	}
}

// checkLinks verifies every url in a 200 answer of the examples, at the
// examples' time (testNow + 1s, after their not_before) and from their
// client range.
func checkLinks(t *testing.T, got any) {
	t.Helper()
	m, _ := got.(map[string]any)
	var urls []string
	if u, ok := m["url"].(string); ok {
		urls = append(urls, u)
	}
	items, _ := m["items"].([]any)
	for _, it := range items {
		if u, ok := it.(map[string]any)["url"].(string); ok {
			urls = append(urls, u)
		}
	}
	for _, u := range urls {
		if _, err := verifyURL(t, u, testNow.Add(time.Second), "203.0.113.9"); err != nil {
			t.Errorf("Verify(%s) = %v; want nil", u, err)
		}
	}
}

// openAPIDoc is a parsed document with the little JSON Schema the tests
// need: $ref, type, properties (closed: a key not listed is an error),
// required, items, oneOf, enum, minimum, maximum.
type openAPIDoc struct {
	root map[string]any
}

// at returns the object at a path of keys from the root.
func (d *openAPIDoc) at(keys ...string) map[string]any { return d.in(d.root, keys...) }

func (d *openAPIDoc) in(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		m, _ = m[k].(map[string]any)
	}
	return m
}

// resolve follows $ref, which names "#/a/b/c" in this document.
func (d *openAPIDoc) resolve(s map[string]any) map[string]any {
	for s != nil {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		s = d.at(strings.Split(strings.TrimPrefix(ref, "#/"), "/")...)
	}
	return nil
}

func (d *openAPIDoc) brokenRefs(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok && d.resolve(v) == nil {
			out = append(out, ref)
		}
		for _, x := range v {
			out = append(out, d.brokenRefs(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, d.brokenRefs(x)...)
		}
	}
	return out
}

func (d *openAPIDoc) validate(s map[string]any, v any, at string) error {
	s = d.resolve(s)
	if s == nil {
		return fmt.Errorf("%s: no schema", at)
	}
	if one, ok := s["oneOf"].([]any); ok {
		n := 0
		for _, sub := range one {
			if d.validate(sub.(map[string]any), v, at) == nil {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("%s: matches %d of oneOf; want 1", at, n)
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, enum)
	}
	if m, ok := v.(map[string]any); ok {
		for _, r := range asSlice(s["required"]) {
			if _, ok := m[r.(string)]; !ok {
				return fmt.Errorf("%s: %q missing", at, r)
			}
		}
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T is not an object", at, v)
		}
		props, closed := s["properties"].(map[string]any)
		for k, x := range m {
			p, ok := props[k].(map[string]any)
			if !ok {
				if closed {
					return fmt.Errorf("%s: %q is not a documented property", at, k)
				}
				continue
			}
			if err := d.validate(p, x, at+"."+k); err != nil {
				return err
			}
		}
	case "array":
		a, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: %T is not an array", at, v)
		}
		if min, ok := s["minItems"].(json.Number); ok {
			if m, _ := min.Int64(); int64(len(a)) < m {
				return fmt.Errorf("%s: fewer than %s items", at, min)
			}
		}
		items, _ := s["items"].(map[string]any)
		for i, x := range a {
			if err := d.validate(items, x, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: %T is not a string", at, v)
		}
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return fmt.Errorf("%s: %T is not a number", at, v)
		}
		f, err := n.Float64()
		if err != nil || f != math.Trunc(f) {
			return fmt.Errorf("%s: %s is not an integer", at, n)
		}
		if min, ok := s["minimum"].(json.Number); ok {
			if m, _ := min.Float64(); f < m {
				return fmt.Errorf("%s: %s is below %s", at, n, min)
			}
		}
		if max, ok := s["maximum"].(json.Number); ok {
			if m, _ := max.Float64(); f > m {
				return fmt.Errorf("%s: %s is above %s", at, n, max)
			}
		}
	}
	return nil
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
