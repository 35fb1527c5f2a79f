package server

import (
	"encoding/json"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// keyStats counts the use of each trusted key pair id, for key rotation:
// an operator retires an old key once its traffic has stopped. Its
// counters are the only ones: /keys reads them, and so does /metrics, at
// each scrape, as the collector of signet_key_requests_total and
// signet_key_last_seen_timestamp_seconds. It is safe for concurrent use;
// ids are fixed at start-up (the trusted ones), so the map is never
// written while serving.
type keyStats struct {
	byID map[string]*keyUse
}

type keyUse struct {
	groups    []string
	behaviors []string
	allowed   useCount
	denied    useCount
	lastSeen  atomic.Int64 // unix seconds of the last allowed request; 0 = never
}

// useCount counts requests, and notes when it counted the first, which
// Prometheus gets as the counter's creation time.
type useCount struct {
	n     atomic.Int64
	since atomic.Int64 // unix nanoseconds of the first request; 0 = none yet
}

func (c *useCount) add() {
	if c.since.Load() == 0 {
		c.since.CompareAndSwap(0, time.Now().UnixNano())
	}
	c.n.Add(1)
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
		u.allowed.add()
		u.lastSeen.Store(at.Unix())
	} else {
		u.denied.add()
	}
}

// status lists every trusted key id, sorted.
func (k *keyStats) status() []KeyStatus {
	out := make([]KeyStatus, 0, len(k.byID))
	for id, u := range k.byID {
		s := KeyStatus{KeyID: id, Groups: u.groups, Behaviors: u.behaviors, Allowed: u.allowed.n.Load(), Denied: u.denied.n.Load()}
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

var (
	keyRequestsDesc = prometheus.NewDesc("signet_key_requests_total",
		"Requests carrying each key pair id, by outcome (allowed or denied).", []string{"key_id", "outcome"}, nil)
	keySeenDesc = prometheus.NewDesc("signet_key_last_seen_timestamp_seconds",
		"Unix time of the last request allowed with each key pair id; shows when an old key is safe to retire.",
		[]string{"key_id"}, nil)
)

// Describe implements prometheus.Collector.
func (k *keyStats) Describe(ch chan<- *prometheus.Desc) {
	ch <- keyRequestsDesc
	ch <- keySeenDesc
}

// Collect implements prometheus.Collector. A series appears with the first
// request it counts, as it would in a CounterVec or GaugeVec.
func (k *keyStats) Collect(ch chan<- prometheus.Metric) {
	for id, u := range k.byID {
		for _, c := range []struct {
			outcome string
			count   *useCount
		}{{"allowed", &u.allowed}, {"denied", &u.denied}} {
			if n := c.count.n.Load(); n > 0 {
				ch <- prometheus.MustNewConstMetricWithCreatedTimestamp(keyRequestsDesc, prometheus.CounterValue,
					float64(n), time.Unix(0, c.count.since.Load()), id, c.outcome)
			}
		}
		if ts := u.lastSeen.Load(); ts != 0 {
			ch <- prometheus.MustNewConstMetric(keySeenDesc, prometheus.GaugeValue, float64(ts), id)
		}
	}
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
