package cfsign_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

// TestVerifyResult checks what a Result carries at each step a request can
// be refused at, and which refusal wins when a request has two problems:
// the mode and key id from the start; the hash and whether the link is
// canned once the key is trusted; the policy bytes once the signature is
// decoded and holds its length; the Policy only once the signature
// verified and the policy parsed. Each case runs through an uncached
// verifier and twice through a cached one (a miss, then a hit where the
// credential passed), which must answer alike.
func TestVerifyResult(t *testing.T) {
	const id = "KRSA2048"
	now := time.Unix(1767200000, 0)
	base := "https://" + host
	s := newSigner(t, "rsa2048", id, "sha1")
	signed, err := s.SignCanned(base+"/a.jpg", time.Unix(1767290400, 0))
	if err != nil {
		t.Fatal(err)
	}
	good := strings.TrimPrefix(signed, base)
	cannedBytes := string(cfsign.CannedPolicy(base+"/a.jpg", 1767290400))
	custom := func(policy string) string {
		sig, err := s.SignPolicy([]byte(policy))
		if err != nil {
			t.Fatal(err)
		}
		return "/v/a?Policy=" + cfsign.Encode([]byte(policy)) + "&Signature=" + sig + "&Key-Pair-Id=" + id
	}
	goodPolicy := `{"Statement":[{"Resource":"` + base + `/v/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`
	outside := `{"Statement":[{"Resource":"` + base + `/w/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`
	tests := []struct {
		name   string
		target string
		want   error // nil, or the reason
		keyID  string
		hash   cfsign.Hash
		canned bool
		bytes  string // the PolicyBytes; "" for none
		policy bool   // whether Policy is set
	}{
		{name: "no credentials", target: "/a.jpg", want: cfsign.ErrNoCredentials},
		{name: "unknown key", target: setParam(good, "Key-Pair-Id", "KOTHER"), want: cfsign.ErrUnknownKey, keyID: "KOTHER"},
		{name: "unknown key, SHA256", target: setParam(good, "Key-Pair-Id", "KOTHER") + "&Hash-Algorithm=SHA256", want: cfsign.ErrUnknownKey, keyID: "KOTHER"},
		{name: "signature missing", target: dropParam(good, "Signature") + "&Hash-Algorithm=SHA256", want: cfsign.ErrMissingSignature, keyID: id},
		{name: "hash unknown", target: good + "&Hash-Algorithm=MD5", want: cfsign.ErrUnknownHash, keyID: id, canned: true},
		{name: "hash unknown, expires bad", target: setParam(good, "Expires", "01767290400") + "&Hash-Algorithm=MD5", want: cfsign.ErrUnknownHash, keyID: id, canned: true},
		{name: "hash unknown, signature undecodable", target: setParam(good, "Signature", "ab_cd") + "&Hash-Algorithm=MD5", want: cfsign.ErrBadSignatureB64, keyID: id, canned: true},
		{name: "expires bad", target: setParam(good, "Expires", "01767290400") + "&Hash-Algorithm=SHA256", want: cfsign.ErrBadExpires, keyID: id, hash: cfsign.SHA256, canned: true},
		{name: "expires bad, signature undecodable", target: setParam(setParam(good, "Expires", "01767290400"), "Signature", "ab_cd"), want: cfsign.ErrBadSignatureB64, keyID: id, canned: true},
		{name: "policy undecodable", target: "/v/a?Policy=%%%&Signature=" + param(good, "Signature") + "&Key-Pair-Id=" + id, want: cfsign.ErrBadPolicyB64, keyID: id},
		{name: "canned, wrong signature", target: good + "&Hash-Algorithm=SHA256", want: cfsign.ErrBadSignature, keyID: id, hash: cfsign.SHA256, canned: true, bytes: cannedBytes},
		{name: "custom, wrong signature", target: "/v/a?Policy=" + cfsign.Encode([]byte("garbage")) + "&Signature=" + param(good, "Signature") + "&Key-Pair-Id=" + id,
			want: cfsign.ErrBadSignature, keyID: id, bytes: "garbage"},
		{name: "custom, signed garbage", target: custom("garbage"), want: cfsign.ErrBadPolicy, keyID: id, bytes: "garbage"},
		{name: "custom, outside the resource", target: custom(outside), want: cfsign.ErrResourceMismatch, keyID: id, bytes: outside, policy: true},
		{name: "canned", target: good, keyID: id, canned: true, bytes: cannedBytes, policy: true},
		{name: "custom", target: custom(goodPolicy), keyID: id, bytes: goodPolicy, policy: true},
	}
	uncached := verifier(t, now, id, "rsa2048")
	cached := verifier2(t, cfsign.Options{Now: func() time.Time { return now }, CacheSize: 16}, id, "rsa2048")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &cfsign.Request{Scheme: "https", Host: host, Target: tc.target}
			for i, v := range []*cfsign.Verifier{uncached, cached, cached} {
				res, err := v.Verify(r)
				if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
					t.Fatalf("Verify #%d = %v; want %v", i, err, tc.want)
				}
				if res.Mode == cfsign.ModeNone != (tc.name == "no credentials") || res.KeyID != tc.keyID || res.Hash != tc.hash ||
					res.Canned != tc.canned || string(res.PolicyBytes) != tc.bytes || (res.Policy != nil) != tc.policy {
					t.Fatalf("Verify #%d = %+v (bytes %q); want key id %q, hash %v, canned %v, bytes %q, a policy %v",
						i, res, res.PolicyBytes, tc.keyID, tc.hash, tc.canned, tc.bytes, tc.policy)
				}
			}
		})
	}
}

// TestParsePolicyNotString checks the detail of a policy whose string
// members hold another type.
func TestParsePolicyNotString(t *testing.T) {
	const c = `"Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}`
	for in, want := range map[string]string{
		`{"Statement":[{"Resource":["a"],` + c + `}}]}`:                                    "the Resource is not a string",
		`{"Statement":[{"Resource":"a",` + c + `,"IpAddress":{"AWS:SourceIp":24}}}]}`:      "AWS:SourceIp is not a string",
		`{"Statement":[{"Resource":"a",` + c + `,"IpAddress":{"AWS:SourceIp":["1/8"]}}}]}`: "AWS:SourceIp is not a string",
	} {
		_, err := cfsign.ParsePolicy([]byte(in))
		var e *cfsign.Error
		if !errors.As(err, &e) || e.Detail != want {
			t.Errorf("ParsePolicy(%s) = %#v; want the detail %q", in, err, want)
		}
	}
}
