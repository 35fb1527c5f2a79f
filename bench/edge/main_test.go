package main

import (
	"crypto"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

func TestParseStat(t *testing.T) {
	// A command name with spaces and a ')' must not shift the fields.
	line := "4242 (nginx: worker) x) S 4241 4241 4241 0 -1 4194624 97 0 0 0 123 45 0 0 20 0 1 0 100 0 0\n"
	got, err := parseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if want := (stat{ppid: 4241, ticks: 168}); got != want {
		t.Errorf("parseStat = %+v; want %+v", got, want)
	}
	if _, err := parseStat([]byte("4242 (short) S 1")); err == nil {
		t.Error("parseStat(truncated line) = nil error; want an error")
	}
}

func TestParseMachineBusy(t *testing.T) {
	got, err := parseMachineBusy([]byte("cpu  100 5 50 9000 40 1 4 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := 1.60; got != want { // (100+5+50+1+4+0) ticks
		t.Errorf("parseMachineBusy = %v; want %v", got, want)
	}
}

func TestParseWrk(t *testing.T) {
	out := "Running 2s test @ http://127.0.0.1:1/\n" +
		"EDGEBENCH requests=1000 duration_us=2000000 bytes=99 connect=1 read=2 write=3 status=4 timeout=5 " +
		"p50_us=300 p90_us=400 p99_us=1500 max_us=9000 mean_us=310.5 exhausted=6 sent=1006\n"
	got, err := parseWrk([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{Requests: 1000, Duration: 2 * time.Second, Bytes: 99, Connect: 1, Read: 2, Write: 3, Status: 4, Timeout: 5,
		P50: 300 * time.Microsecond, P99: 1500 * time.Microsecond, Max: 9000 * time.Microsecond, Exhausted: 6}
	if got != want || got.rps() != 500 || got.errors() != 21 {
		t.Errorf("parseWrk = %+v (rps %v, errors %d); want %+v, 500/s, 21 errors", got, got.rps(), got.errors(), want)
	}
	for _, bad := range []string{"", "EDGEBENCH requests=0 duration_us=1\n", "EDGEBENCH requests=x\n", "EDGEBENCH requests=1 duration_us=1 p50_us\n", "EDGEBENCH requests=1 duration_us=1 new_us=1.5\n"} {
		if _, err := parseWrk([]byte(bad)); err == nil {
			t.Errorf("parseWrk(%q) = nil error; want an error", bad)
		}
	}
}

func TestCountCPUs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{{"0", 1}, {"0-1", 2}, {"0,2", 2}, {"1-3,6", 4}, {"", 0}, {"a", 0}, {"3-1", 0}} {
		got, err := countCPUs(tc.in)
		if got != tc.want || (err != nil) != (tc.want == 0) {
			t.Errorf("countCPUs(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

// TestNginxMD5 holds the link format to what nginx's secure_link_md5
// "$secure_link_expires$uri <secret>" expects, from
//
//	echo -n '2147483647/f/00001.bin bench-secret' | openssl md5 -binary | openssl base64 | tr +/ -_ | tr -d =
func TestNginxMD5(t *testing.T) {
	got, err := nginxMD5("bench-secret")("/f/00001.bin", 2147483647)
	if err != nil {
		t.Fatal(err)
	}
	if want := "/f/00001.bin?md5=a4VR_aAR5oDThVVNqj6DwA&expires=2147483647"; got != want {
		t.Errorf("nginxMD5 = %q; want %q", got, want)
	}
}

// TestCloudFrontLinks checks that the links written for wrk verify for the
// host the clients send, and that tamper breaks them.
func TestCloudFrontLinks(t *testing.T) {
	for _, kind := range []string{"ecdsa", "rsa"} {
		t.Run(kind, func(t *testing.T) {
			k, err := newKey(t.TempDir(), kind)
			if err != nil {
				t.Fatal(err)
			}
			v, err := cfsign.NewVerifier(map[string]crypto.PublicKey{k.signer.KeyID(): k.signer.Public()}, cfsign.Options{})
			if err != nil {
				t.Fatal(err)
			}
			target, err := cloudFront(k.signer, host)("/f/00007.bin", time.Now().Add(time.Hour).Unix())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(target, "/f/00007.bin?Expires=") {
				t.Errorf("target = %q; want /f/00007.bin?Expires=...", redact(target))
			}
			verify := func(target string) error {
				_, err := v.Verify(&cfsign.Request{Scheme: "http", Host: host, Target: target, ClientIP: netip.MustParseAddr("127.0.0.1")})
				return err
			}
			if err := verify(target); err != nil {
				t.Errorf("Verify(signed link) = %v; want nil", err)
			}
			if err := verify(tamper(target, "Signature=")); err == nil {
				t.Error("Verify(tampered link) = nil; want an error")
			}
		})
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{{nil, 0}, {[]time.Duration{3, 1, 2}, 2}, {[]time.Duration{4, 1, 3, 2}, 2}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v; want %v", tc.in, got, tc.want)
		}
	}
}
