package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/signet-dev/signet/internal/edge/edgetest"
	"github.com/signet-dev/signet/internal/testenv"
)

// TestServeFraming sends request-smuggling payloads to every kind of
// listener `signet serve` runs: the edge on net/http and on fasthttp, the
// signing API on its own listener, and the admin listener. Each must answer
// the request once and close the connection, never answering the request
// hidden in its body. The adapter suite holds the full set of cases; this
// checks that serve wires the framing rules into every server it builds.
func TestServeFraming(t *testing.T) {
	dir := t.TempDir()
	k := keygen(t, "ecdsa")
	files := filepath.Join(dir, "files")
	os.MkdirAll(filepath.Join(files, "public"), 0o755)
	os.WriteFile(filepath.Join(files, "public", "a%20b.txt"), []byte("a%20b"), 0o644) // the suite's probe
	edge, fast, api, admin := testenv.FreeAddr(t), testenv.FreeAddr(t), testenv.FreeAddr(t), testenv.FreeAddr(t)
	cfg := filepath.Join(dir, "signet.yaml")
	os.WriteFile(cfg, []byte(`
data_dir: `+filepath.Join(dir, "data")+`
listeners:
  - {address: `+edge+`}
  - {address: `+fast+`, adapter: fasthttp}
admin: {address: `+admin+`}
log: {access_log: false}
key_groups:
  main: [{id: `+k.id+`, public_key_file: `+k.pub+`}]
signing_api: {address: `+api+`}
distributions:
  - name: media
    origin: {type: dir, dir: {path: `+files+`}}
    behaviors:
      - {path: "/public/*", public: true}
      - {path: "*", key_groups: [main]}
    base_url: http://`+edge+`
    signer: {source: file, key_id: `+k.id+`, private_key_file: `+k.priv+`}
`), 0o644)
	serveConfig(t, cfg)
	waitHTTP(t, "http://"+admin+"/readyz")

	payloads := map[string]func(addr, target string) string{
		// Framed by Content-Length, the body holds a second request;
		// framed by chunked, it follows the body.
		"CL.TE": func(addr, target string) string {
			smuggled := "GET /public/missing.txt HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"
			body := "0\r\n\r\n" + smuggled
			return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n%s",
				target, addr, len(body), body)
		},
		// net/http ignores Transfer-Encoding on HTTP/1.0 and frames by
		// Content-Length: the rest of the chunk would be a request.
		"TE.CL HTTP/1.0": func(addr, target string) string {
			smuggled := "GET /public/missing.txt HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"
			return fmt.Sprintf("POST %s HTTP/1.0\r\nHost: %s\r\nConnection: keep-alive\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n",
				target, addr, len(smuggled), smuggled)
		},
	}
	once := regexp.MustCompile(`^[0-9]{3} close$`)
	for _, l := range []struct{ name, addr, target string }{
		{"edge nethttp", edge, "/public/a%2520b.txt"},
		{"edge fasthttp", fast, "/public/a%2520b.txt"},
		{"signing api", api, "/v1/sign/url"},
		{"admin", admin, "/readyz"},
	} {
		for name, payload := range payloads {
			if got := edgetest.Exchange(t, l.addr, payload(l.addr, l.target)); !once.MatchString(got) {
				t.Errorf("%s, %s: %q; want one answer, then the connection closed", l.name, name, got)
			}
		}
	}
}
