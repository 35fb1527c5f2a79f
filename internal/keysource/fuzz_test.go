package keysource_test

import (
	"bytes"
	"crypto"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/keysource"
)

// base64Run finds runs of base64 text long enough to be key material.
var base64Run = regexp.MustCompile(`[A-Za-z0-9+/]{24,}`)

// FuzzParseSecret feeds secret payloads (seeds in testdata/fuzz) to
// ParseSecret. Invariants: no panic; an error never quotes the key
// material (a long base64 run from a PEM body); a key that parses is
// valid, parses the same way again, and signs a link that verifies.
func FuzzParseSecret(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte, keyID string) {
		k, err := keysource.ParseSecret(payload, keyID)
		if err != nil {
			msg := err.Error()
			for _, run := range base64Run.FindAllString(pemBodies(payload), -1) {
				if strings.Contains(msg, run) {
					t.Fatalf("ParseSecret error %q quotes the payload's %q", msg, run)
				}
			}
			return
		}
		if err := k.Check(); err != nil {
			t.Fatalf("ParseSecret returned a key that fails Check: %v", err)
		}
		again, err := keysource.ParseSecret(payload, keyID)
		if err != nil || again.ID != k.ID || again.Hash != k.Hash ||
			!k.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(again.Signer.Public()) {
			t.Fatalf("ParseSecret twice = %s/%v, then %s/%v, %v", k.ID, k.Hash, again.ID, again.Hash, err)
		}
		signLink(t, k, map[string]crypto.PublicKey{k.ID: k.Signer.Public()})
	})
}

// pemBodies returns the lines of the PEM text in payload (the payload
// itself, or a JSON payload's private_key) that are not BEGIN or END
// lines, whose block type an error may name.
func pemBodies(payload []byte) string {
	text := string(payload)
	var v struct {
		PrivateKey string `json:"private_key"`
	}
	if t := bytes.TrimSpace(payload); len(t) > 0 && t[0] == '{' && json.Unmarshal(t, &v) == nil {
		text = v.PrivateKey
	}
	var body []string
	for line := range strings.Lines(text) {
		if !strings.Contains(line, "-----") {
			body = append(body, line)
		}
	}
	return strings.Join(body, "")
}
