package testenv

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RefCase is one signing request in the JSON protocol of the interop drivers
// (interop/README.md), which run the AWS reference signers botocore and
// @aws-sdk/cloudfront-signer.
type RefCase struct {
	ID      string   `json:"id"`
	KeyPEM  string   `json:"key_pem"`
	KeyID   string   `json:"key_id"`
	URL     string   `json:"url"`
	Expires int64    `json:"expires"`
	Policy  *string  `json:"policy"`         // exact custom policy bytes; nil for canned
	Spec    *RefSpec `json:"spec,omitempty"` // botocore only: build the policy with build_policy
	Cookies bool     `json:"cookies"`
	Hash    string   `json:"hash"` // sha1 or sha256
}

// RefSpec asks botocore to build a custom policy from its parts.
type RefSpec struct {
	Resource  string `json:"resource"`
	Expires   int64  `json:"expires"`
	NotBefore int64  `json:"not_before,omitempty"`
	IP        string `json:"ip,omitempty"`
}

// RefResult is a driver's answer to one RefCase: a signed URL, signed cookie
// values, or the reason the reference could not sign it.
type RefResult struct {
	ID      string            `json:"id"`
	URL     *string           `json:"url"`
	Cookies map[string]string `json:"cookies"`
	Error   *string           `json:"error"`
}

// A Reference is an interop driver: an interpreter and its script.
type Reference struct {
	Name   string // "botocore" or "js"
	Interp string // "" when unavailable
	Script string // relative to the repository root
}

// Botocore is the botocore CloudFrontSigner driver.
func Botocore() Reference {
	return Reference{Name: "botocore", Interp: Python(), Script: "interop/botocore_sign.py"}
}

// JS is the @aws-sdk/cloudfront-signer driver.
func JS() Reference {
	return Reference{Name: "js", Interp: Node(), Script: "interop/js/sign.mjs"}
}

// Sign runs the reference on cases, after Need has allowed it, and returns
// one result per case, in order.
func (r Reference) Sign(t testing.TB, cases []RefCase) []RefResult {
	t.Helper()
	Need(t, r.Name+" reference signer", r.Interp != "")
	body, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(r.Interp, filepath.Join(RepoRoot(), r.Script))
	cmd.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", r.Interp, r.Script, err, stderr.Bytes())
	}
	var res []RefResult
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("%s output: %v", r.Script, err)
	}
	if len(res) != len(cases) {
		t.Fatalf("%s returned %d results for %d cases", r.Script, len(res), len(cases))
	}
	for i := range res {
		if res[i].ID != cases[i].ID {
			t.Fatalf("%s result %d has id %q; want %q", r.Script, i, res[i].ID, cases[i].ID)
		}
	}
	return res
}

// Version returns the reference's own version line, such as
// "botocore 1.43.11".
func (r Reference) Version(t testing.TB) string {
	t.Helper()
	out, err := exec.Command(r.Interp, filepath.Join(RepoRoot(), r.Script), "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", r.Script, err)
	}
	return strings.TrimSpace(string(out))
}
