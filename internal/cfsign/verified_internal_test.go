package cfsign

// Internal tests of the verified-link cache: what the black-box tests in
// verified_test.go cannot reach, a forced hash collision and the CLOCK order.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestVerifiedLinksCollision makes every credential hash to the same value, so each
// lookup finds a stored entry for another credential: only the comparison of
// the whole key stands between a forged link and a pass.
func TestVerifiedLinksCollision(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner("KTEST", key, SHA256)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1767200000, 0)
	v, err := NewVerifier(map[string]crypto.PublicKey{"KTEST": key.Public()},
		Options{Now: func() time.Time { return now }, CacheSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	v.verified.hashMask = 0
	sign := func(path string) *Request {
		u, err := s.SignCanned("https://h.example"+path, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return &Request{Scheme: "https", Host: "h.example", Target: strings.TrimPrefix(u, "https://h.example")}
	}
	a, b := sign("/a"), sign("/b")
	// b's URL with a's signature, and a's with b's.
	_, sigA, _ := strings.Cut(a.Target, "Signature=")
	_, sigB, _ := strings.Cut(b.Target, "Signature=")
	forgedB := &Request{Scheme: "https", Host: "h.example", Target: strings.Replace(b.Target, sigB, sigA, 1)}
	forgedA := &Request{Scheme: "https", Host: "h.example", Target: strings.Replace(a.Target, sigA, sigB, 1)}

	steps := []struct {
		name     string
		r        *Request
		want     error
		resource string // of the stored entry afterwards
	}{
		{"a", a, nil, "https://h.example/a"},
		{"b's URL, a's signature", forgedB, ErrBadSignature, "https://h.example/a"},
		{"b, colliding with a", b, nil, "https://h.example/b"},
		{"a's URL, b's signature", forgedA, ErrBadSignature, "https://h.example/b"},
		{"b again", b, nil, "https://h.example/b"},
		{"a again", a, nil, "https://h.example/a"},
	}
	for _, st := range steps {
		res, err := v.Verify(st.r)
		if !errors.Is(err, st.want) || (err == nil) != (st.want == nil) {
			t.Fatalf("%s: Verify = %v; want %v", st.name, err, st.want)
		}
		if err == nil && res.Policy.Resource != st.r.Scheme+"://"+st.r.Host+st.r.Target[:2] {
			t.Fatalf("%s: Verify = Resource %q; want the request's own", st.name, res.Policy.Resource)
		}
		sh := &v.verified.shards[0]
		i, ok := sh.index[0]
		if !ok || len(sh.slots) != 1 || sh.slots[i].policy.Resource != st.resource {
			t.Fatalf("%s: the cache holds %d entries (hash 0 present: %v); want one, for %s", st.name, len(sh.slots), ok, st.resource)
		}
	}
}

func TestEqual(t *testing.T) {
	for n := range 34 {
		a := make([]byte, n)
		for i := range a {
			a[i] = byte(i*7 + 1)
		}
		if !equal(a, bytes.Clone(a)) {
			t.Errorf("equal(%x, itself) = false; want true", a)
		}
		if n > 0 && equal(a, a[:n-1]) {
			t.Errorf("equal(%x, %x) = true; want false", a, a[:n-1])
		}
		for i := range n {
			for _, bit := range []byte{1, 0x80} {
				b := bytes.Clone(a)
				b[i] ^= bit
				if equal(a, b) {
					t.Errorf("equal(%x, %x) = true; want false", a, b)
				}
			}
		}
	}
}

// TestVerifiedLinksClock checks the eviction order: an entry used since the hand
// last passed survives, and an unused one goes first.
func TestVerifiedLinksClock(t *testing.T) {
	c := newVerifiedLinks(4)
	if len(c.shards) != 1 {
		t.Fatalf("newVerifiedLinks(4) has %d shards; want 1", len(c.shards))
	}
	e := func(i int) *verifiedLink { return &verifiedLink{key: []byte("key" + strconv.Itoa(i))} }
	entries := []*verifiedLink{e(0), e(1), e(2), e(3), e(4), e(5)}
	for _, x := range entries[:4] {
		c.add(x)
	}
	c.get(entries[1].key)
	c.get(entries[3].key)
	c.add(entries[4]) // the hand at 0: 0 is unused and goes
	c.add(entries[5]) // at 1: 1 gets a second chance, 2 goes
	for i, x := range entries {
		want := i != 0 && i != 2
		if got := c.get(x.key) == x; got != want {
			t.Errorf("after evictions, get(key%d) found it = %v; want %v", i, got, want)
		}
	}
	if n := c.len(); n != 4 {
		t.Errorf("len() = %d; want 4", n)
	}
}

// TestVerifiedLinksShards checks that the shares of the shards add up to the bound.
func TestVerifiedLinksShards(t *testing.T) {
	for _, size := range []int{1, 2, 31, 32, 33, 100, 1000, 4097, 1 << 20} {
		c := newVerifiedLinks(size)
		total := 0
		for i := range c.shards {
			if c.shards[i].size < 1 {
				t.Errorf("newVerifiedLinks(%d): shard %d holds %d entries; want at least 1", size, i, c.shards[i].size)
			}
			total += c.shards[i].size
		}
		if n := len(c.shards); total != size || n > maxShards || n&(n-1) != 0 {
			t.Errorf("newVerifiedLinks(%d) = %d shards holding %d entries; want a power of two up to %d holding %d", size, n, total, maxShards, size)
		}
	}
	if newVerifiedLinks(0) != nil {
		t.Errorf("newVerifiedLinks(0) != nil; want no cache")
	}
}
