package cfsign

import (
	"strings"
	"testing"
)

// FuzzScanPolicy holds the fast path of the policy parser to the
// encoding/json one: whatever scanPolicy accepts, parsePolicyJSON accepts
// with the same Policy. (scanPolicy may refuse what is valid; the JSON path
// then decides.)
func FuzzScanPolicy(f *testing.F) {
	const dlt = `"DateLessThan":{"AWS:EpochTime":1767290400}`
	for _, s := range []string{
		`{"Statement":[{"Resource":"https://h/a.jpg","Condition":{` + dlt + `}}]}`,
		`{"Statement":[{"Resource":"https://h/v/*","Condition":{` + dlt + `,"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"},"DateGreaterThan":{"AWS:EpochTime":1767100000}}}]}`,
		"{\n \"Statement\": {\"Resource\": \"https://h/v/*\",\n \"Condition\": {" + dlt + "}}}\n",
		`{"Statement":[{"Condition":{` + dlt + `}}]}`,
		`{"Statement":[{"Resource":"","Condition":{` + dlt + `}}]}`,
		`{"Statement":[{"Resource":"a","Resource":"b","Condition":{` + dlt + `}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{` + dlt + `,` + dlt + `}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{` + dlt + `}},{}]}`,
		`{"Statement":[{"Resource":"a","Condition":{` + dlt + `}}],"Statement":[]}`,
		`{"Statement":[{"Resource":"a","Condition":{` + dlt + `}}]} x`,
		`{"Statement":[{"Resource":"a\u0041","Condition":{` + dlt + `}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400.0}}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{"DateLessThan":{"AWS:EpochTime":01767290400}}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400000}}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{"DateLessThan":{"AWS:EpochTime":"1767290400"}}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{"IpAddress":{"AWS:SourceIp":"2001:db8::/32"},` + dlt + `}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{"IpAddress":{"AWS:SourceIp":"192.0.2.7"},` + dlt + `}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{"IpAddress":{},` + dlt + `}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{` + dlt + `,}}]}`,
		`{"Statement":{"Resource":"a","Condition":{` + dlt + `}}`,
		`{"Statement":[{"Resource":"a","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400,"x":1}}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast Policy
		if !scanPolicy(b, &fast) {
			return
		}
		var slow Policy
		if err := parsePolicyJSON(b, &slow); err != nil {
			t.Fatalf("scanPolicy(%q) accepts what parsePolicyJSON refuses: %v", b, err)
		}
		if fast != slow {
			t.Fatalf("scanPolicy(%q) = %+v; parsePolicyJSON gives %+v", b, fast, slow)
		}
	})
}

// TestScanPolicyTakes checks that the fast path takes the policies signers
// write, so that it is not silently bypassed.
func TestScanPolicyTakes(t *testing.T) {
	for _, s := range []string{
		`{"Statement":[{"Resource":"https://h/a.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`,
		`{"Statement":[{"Resource":"https://h/v/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"},"DateGreaterThan":{"AWS:EpochTime":1767100000}}}]}`,
		"{\n  \"Statement\": {\n    \"Resource\": \"https://h/v/*\",\n    \"Condition\": {\"DateLessThan\": {\"AWS:EpochTime\": 1767290400}}\n  }\n}\n",
	} {
		var p Policy
		if !scanPolicy([]byte(s), &p) {
			t.Errorf("scanPolicy(%q) = false; want the fast path to take it", s)
		}
		if !strings.HasPrefix(p.Resource, "https://h/") || p.Expires != 1767290400 {
			t.Errorf("scanPolicy(%q) = %+v; want its Resource and expiry", s, p)
		}
	}
}
