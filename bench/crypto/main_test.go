package main

import "testing"

// speedOutput is `openssl speed -seconds 1 rsa2048 ecdsap256` from OpenSSL
// 3.0.19 (stdout only; the "Doing ..." lines go to stderr).
const speedOutput = `version: 3.0.19
built on: Fri Apr  3 12:29:32 2026 UTC
options: bn(64,64)
compiler: gcc -fPIC -pthread -m64 -Wa,--noexecstack -Wall -DNDEBUG
CPUINFO: OPENSSL_ia32cap=0xfffa3203078bffff:0x405fc6f1bf07ab
                  sign    verify    sign/s verify/s
rsa 2048 bits 0.000335s 0.000019s   2987.8  52936.0
                              sign    verify    sign/s verify/s
 256 bits ecdsa (nistp256)   0.0000s   0.0001s  52375.8  17020.0
`

func TestParseSpeed(t *testing.T) {
	got, err := parseSpeed([]byte(speedOutput))
	if err != nil {
		t.Fatalf("parseSpeed = %v", err)
	}
	want := map[string]float64{"rsa2048 sign": 2987.8, "rsa2048 verify": 52936.0, "ecdsap256 sign": 52375.8, "ecdsap256 verify": 17020.0}
	for k, w := range want {
		if got.rates[k] != w {
			t.Errorf("parseSpeed: %s = %v; want %v", k, got.rates[k], w)
		}
	}
	if got.version != "OpenSSL 3.0.19" {
		t.Errorf("parseSpeed: version = %q; want %q", got.version, "OpenSSL 3.0.19")
	}
	if _, err := parseSpeed([]byte("version: 3.0.19\n")); err == nil {
		t.Errorf("parseSpeed(no summary lines) = nil error; want one")
	}
}
