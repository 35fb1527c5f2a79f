package cfsign

import (
	"crypto/subtle"
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
)

// The verified-link cache (Options.CacheSize, type verifiedLinks)
// remembers credentials whose signature has verified, so that a link used
// again skips the public-key operation and the policy parsing. It is not
// the edge cache (package cache, object bodies) nor the signing API's cache
// of signed links. What it stores, per credential (type verifiedLink):
//
//   - the key (appendKey): the kind (canned or custom), the hash, the key
//     pair id, the Signature value and the policy (the canned policy
//     rebuilt from the request, or the Policy value), which determine the
//     inputs of the signature check. Signature and Policy are kept as
//     received, in their CloudFront base64, so that a hit decodes nothing:
//     decoding is a function, so equal values mean equal bytes, and a
//     value sent in another spelling (%7E for '~') is merely another entry;
//   - the facts a decision needs (expiry, start, IP range, the compiled
//     Resource pattern), which the verifier never hands out;
//   - the Policy and policy bytes that go into Result, shared read-only by
//     every Result the entry serves (see Result).
//
// Only credentials that passed every check are stored: refusals, including
// a good signature refused for its time, IP or resource, never are. A hit
// still runs every check that depends on the request or the clock
// (Verifier.check). The verifier's keys are fixed, so trust cannot change
// under an entry.
//
// A lookup hashes the key with a per-Verifier random seed (hash/maphash) to
// pick a shard and a slot, then compares the whole stored key with the
// request's in constant time (equal, on crypto/subtle's pattern): a hash
// collision, guessed or not, can only cause a miss, and a miss verifies the
// signature. The comparison's time does not tell an attacker how much of a
// stored signature a guess got right.
//
// The bound is CacheSize entries, split over up to maxShards shards, each
// with its own lock and a fixed share of the entries, so that one lock is
// not shared by every request. Eviction is CLOCK (second chance): each
// entry has a reference bit, set when it serves a hit; an insert into a full
// shard sweeps a hand over the shard's slots, clearing set bits, and
// replaces the first entry whose bit was already clear. New entries start
// with the bit clear, so a link seen once is evicted before one in use.
// Credentials whose key is over maxCachedKey bytes are verified every time
// and never stored, which bounds an entry's size.

const (
	// maxShards bounds the shard count; each shard gets at least
	// minPerShard entries.
	maxShards   = 64
	minPerShard = 16
	// maxCachedKey bounds the key of a cached credential, and so an
	// entry's size (the key and a copy of the policy bytes). A typical
	// link's key is 0.2 to 1 KiB.
	maxCachedKey = 8 << 10
)

// Kinds of credential, the key's first byte: the same bytes sent as a
// canned link and as a custom policy are different credentials.
const (
	kindCanned = 1
	kindCustom = 2
)

// facts is what a decision needs from a verified credential. It is private
// to the verifier: a caller holding a Result cannot change it.
type facts struct {
	canned             bool
	expires, notBefore int64
	sourceIP           netip.Prefix
	hasResource        bool
	pattern            Pattern // custom policies with a valid Resource
	patternErr         error   // why Resource did not parse; never cached
}

// verifiedLink is one verified credential, an entry of verifiedLinks.
// Every field but ref is written before the entry is published to the
// cache and never again.
type verifiedLink struct {
	key   []byte      // see appendKey; never handed out
	ref   atomic.Bool // CLOCK reference bit
	facts facts
	// policy and policyBytes are handed out in Results and never read by
	// a decision.
	policy      Policy
	policyBytes []byte
}

// verifiedLinks is the verified-link cache. Its methods are safe for
// concurrent use; a nil *verifiedLinks is an empty, disabled cache.
type verifiedLinks struct {
	seed   maphash.Seed
	shards []shard
	mask   uint64 // shard index mask
	// hashMask is all ones; a test sets it to 0 to make every key collide.
	// (A func field would make the key escape to the heap.)
	hashMask uint64
}

type shard struct {
	mu     sync.RWMutex
	index  map[uint64]int // key hash to slot
	slots  []*verifiedLink
	hashes []uint64 // hashes[i] is the hash of slots[i]
	size   int      // at most len(slots) entries
	hand   int
	_      [64]byte // keep shards' locks on separate cache lines
}

// newVerifiedLinks returns a cache of at most size entries, or nil (no
// cache) when size is 0 or less.
func newVerifiedLinks(size int) *verifiedLinks {
	if size <= 0 {
		return nil
	}
	n := 1
	for n < maxShards && 2*n*minPerShard <= size {
		n *= 2
	}
	l := &verifiedLinks{
		seed:     maphash.MakeSeed(),
		shards:   make([]shard, n),
		mask:     uint64(n - 1),
		hashMask: ^uint64(0),
	}
	for i := range l.shards {
		s := &l.shards[i]
		s.size = size / n
		if i < size%n {
			s.size++
		}
		s.index = make(map[uint64]int)
	}
	return l
}

// appendKey appends the cache key of cr, a credential of r (whose target
// splits into path and query), to dst, and returns it with the offset of
// the policy in it. The key is a header (kind, hash, key id length,
// Signature length in two bytes), the key pair id, the Signature value as
// received and the policy: for a canned link, the policy rebuilt from the
// request; for a custom one, the Policy value as received. The received
// values stand for their decoded bytes: decoding is a function. A trusted
// key id is at most 128 bytes (CheckKeyID); a key long enough for the
// signature length to overflow its two bytes is over maxCachedKey, so it
// is never looked up or stored. appendKey allocates only to grow dst.
func appendKey(dst []byte, cr *credential, r *Request, path, query string) (key []byte, policyAt int) {
	kind := byte(kindCustom)
	if cr.canned() {
		kind = kindCanned
	}
	n := len(cr.Signature)
	dst = append(dst, kind, byte(cr.hash), byte(len(cr.KeyID)), byte(n>>8), byte(n))
	dst = append(dst, cr.KeyID...)
	dst = append(dst, cr.Signature...)
	policyAt = len(dst)
	if cr.canned() {
		return appendResource(dst, r.Scheme, r.Host, path, query, cr.Expires), policyAt
	}
	return append(dst, cr.Policy...), policyAt
}

// get returns the entry stored under key, or nil. A returned entry's key
// equals key byte for byte.
func (l *verifiedLinks) get(key []byte) *verifiedLink {
	if l == nil || len(key) > maxCachedKey {
		return nil
	}
	h := l.hash(key)
	s := &l.shards[h&l.mask]
	var e *verifiedLink
	s.mu.RLock()
	if i, ok := s.index[h]; ok {
		e = s.slots[i]
	}
	s.mu.RUnlock()
	if e == nil || !equal(e.key, key) {
		return nil
	}
	if !e.ref.Load() {
		e.ref.Store(true)
	}
	return e
}

// add stores e, which must have passed every check. An entry under the same
// hash, the same credential or a colliding one, is replaced.
func (l *verifiedLinks) add(e *verifiedLink) {
	if l == nil || len(e.key) > maxCachedKey {
		return
	}
	h := l.hash(e.key)
	s := &l.shards[h&l.mask]
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index[h]; ok {
		s.slots[i] = e
		return
	}
	if len(s.slots) < s.size {
		s.index[h] = len(s.slots)
		s.slots = append(s.slots, e)
		s.hashes = append(s.hashes, h)
		return
	}
	for {
		old := s.slots[s.hand]
		if !old.ref.Load() {
			break
		}
		old.ref.Store(false)
		s.hand = (s.hand + 1) % len(s.slots)
	}
	delete(s.index, s.hashes[s.hand])
	s.slots[s.hand], s.hashes[s.hand] = e, h
	s.index[h] = s.hand
	s.hand = (s.hand + 1) % len(s.slots)
}

// equal reports whether a and b are equal, in a time that depends only on
// their lengths: crypto/subtle.ConstantTimeCompare, eight bytes at a time.
func equal(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var d uint64
	i := 0
	for ; len(a)-i >= 8; i += 8 {
		d |= binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:])
	}
	for ; i < len(a); i++ {
		d |= uint64(a[i] ^ b[i])
	}
	return subtle.ConstantTimeEq(int32(uint32(d>>32|d)), 0) == 1
}

func (l *verifiedLinks) hash(key []byte) uint64 { return maphash.Bytes(l.seed, key) & l.hashMask }

// len returns the number of entries stored.
func (l *verifiedLinks) len() int {
	if l == nil {
		return 0
	}
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.RLock()
		n += len(s.slots)
		s.mu.RUnlock()
	}
	return n
}
