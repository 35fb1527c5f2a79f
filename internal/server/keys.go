package server

import (
	"encoding/json"
	"net/http"
	"sort"
	"sync/atomic"
	"time"
)

// keyStats counts the use of each trusted key pair id, for key rotation:
// an operator retires an old key once its traffic has stopped. It is safe
// for concurrent use; ids are fixed at start-up (the trusted ones), so the
// map is never written while serving.
type keyStats struct {
	byID map[string]*keyUse
}

type keyUse struct {
	groups    []string
	behaviors []string
	allowed   atomic.Int64
	denied    atomic.Int64
	lastSeen  atomic.Int64 // unix seconds of the last allowed request; 0 = never
}

// KeyStatus is one key pair id in the /keys admin answer.
type KeyStatus struct {
	KeyID     string     `json:"key_id"`
	Groups    []string   `json:"groups"`
	Behaviors []string   `json:"behaviors"` // "distribution path-pattern" that trust it
	Allowed   int64      `json:"allowed"`
	Denied    int64      `json:"denied"`
	LastSeen  *time.Time `json:"last_seen"` // last allowed request; null if none since start
}

func newKeyStats() *keyStats { return &keyStats{byID: map[string]*keyUse{}} }

// trust records, at start-up, that a behavior trusts id through group.
func (k *keyStats) trust(id, group, behavior string) {
	u := k.byID[id]
	if u == nil {
		u = &keyUse{}
		k.byID[id] = u
	}
	u.groups = appendOnce(u.groups, group)
	u.behaviors = appendOnce(u.behaviors, behavior)
}

func (k *keyStats) observe(id string, allowed bool, at time.Time) {
	u := k.byID[id]
	if u == nil {
		return // only trusted ids are counted
	}
	if allowed {
		u.allowed.Add(1)
		u.lastSeen.Store(at.Unix())
	} else {
		u.denied.Add(1)
	}
}

// status lists every trusted key id, sorted.
func (k *keyStats) status() []KeyStatus {
	out := make([]KeyStatus, 0, len(k.byID))
	for id, u := range k.byID {
		s := KeyStatus{KeyID: id, Groups: u.groups, Behaviors: u.behaviors, Allowed: u.allowed.Load(), Denied: u.denied.Load()}
		if ts := u.lastSeen.Load(); ts != 0 {
			t := time.Unix(ts, 0).UTC()
			s.LastSeen = &t
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].KeyID < out[j].KeyID })
	return out
}

func (k *keyStats) handler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(struct {
		Keys []KeyStatus `json:"keys"`
	}{k.status()})
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
