package server

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/signet-dev/signet/internal/cache"
	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/access"
	"github.com/signet-dev/signet/internal/keysource"
	"github.com/signet-dev/signet/internal/origin"
)

// metrics are the edge's Prometheus collectors, registered on the admin
// listener's own registry (never the global one). Safe for concurrent use.
type metrics struct {
	keys     *keyStats // also the collector of the key-use metrics
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	denials  *prometheus.CounterVec
	origin   *prometheus.HistogramVec
	bytes    *prometheus.CounterVec
	// edgeCacheRequests counts requests by X-Cache result; edgeCaches
	// reports what each edge cache holds.
	edgeCacheRequests *prometheus.CounterVec
	edgeCaches        *edgeCacheCollector
	// signerRefreshErrors counts failed refreshes of signing keys kept in
	// Secrets Manager, by reason (refreshReasons).
	signerRefreshErrors *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		keys: newKeyStats(),
		reg:  prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_requests_total",
			Help: "Viewer requests answered, by distribution, behavior (path pattern) and status.",
		}, []string{"distribution", "behavior", "status"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_denials_total",
			Help: "Signed-link refusals by public code and private reason.",
		}, []string{"code", "reason"}),
		origin: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "signet_origin_duration_seconds",
			Help:    "Origin call latency: stat, open to first byte, and get (stat and open in one request), by distribution and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"distribution", "op", "outcome"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_bytes_sent_total",
			Help: "Response body bytes sent to viewers, by distribution.",
		}, []string{"distribution"}),
		edgeCacheRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_cache_requests_total",
			Help: "Requests to distributions with an edge cache, by X-Cache result (Hit, RefreshHit, Miss, Error).",
		}, []string{"distribution", "result"}),
		edgeCaches: &edgeCacheCollector{},
		signerRefreshErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_signer_refresh_errors_total",
			Help: "Failed refreshes of a signing key kept in Secrets Manager, by distribution and reason; the last good key stays in use.",
		}, []string{"distribution", "reason"}),
	}
	m.reg.MustRegister(m.requests, m.denials, m.keys, m.origin, m.bytes, m.edgeCacheRequests, m.edgeCaches, m.signerRefreshErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// reasonLabel turns a refusal's private reason into a short, bounded label:
// cfsign's name for its sentinel, so a metric never carries request data,
// or "other".
func reasonLabel(err error) string {
	if name := cfsign.ReasonName(err); name != "" {
		return name
	}
	return "other"
}

// errLabel names a sentinel error in a metric label.
type errLabel struct {
	err   error
	label string
}

// labelOf is the label of the first entry of table that err matches, or
// "other".
func labelOf(err error, table []errLabel) string {
	for _, r := range table {
		if errors.Is(err, r.err) {
			return r.label
		}
	}
	return "other"
}

// refreshReasons label a failed refresh of a signing key: one label per
// error the key source and cfsign.CheckSigner name (labelOf: "other" for
// none).
var refreshReasons = []errLabel{
	{keysource.ErrSecretUnreadable, "unreadable"},
	{keysource.ErrSecretUnusable, "unusable"},
	{cfsign.ErrSignerUntrusted, "untrusted_key_id"},
	{cfsign.ErrSignerMismatch, "key_mismatch"},
}

// timedOrigin measures an origin's latency into the origin histogram. It is
// a transparent decorator: errors and data pass through unchanged, and its
// Get is the wrapped origin's (origin.Get).
type timedOrigin struct {
	next origin.Origin
	dist string
	hist *prometheus.HistogramVec
}

var (
	_ origin.Origin = (*timedOrigin)(nil)
	_ origin.Getter = (*timedOrigin)(nil)
)

func (o *timedOrigin) observe(op string, start time.Time, err error) {
	outcome := "ok"
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled):
		outcome = "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		outcome = "timeout"
	default:
		outcome = "error"
	}
	o.hist.WithLabelValues(o.dist, op, outcome).Observe(time.Since(start).Seconds())
}

func (o *timedOrigin) Stat(ctx context.Context, key string) (origin.Info, error) {
	start := time.Now()
	info, err := o.next.Stat(ctx, key)
	o.observe("stat", start, ignoreNotFound(err))
	return info, err
}

func (o *timedOrigin) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	start := time.Now()
	rc, err := o.next.Open(ctx, info, off, n)
	o.observe("open", start, err)
	return rc, err
}

// Get is timed as op "get" when the wrapped origin is an origin.Getter,
// and as a "stat" when it is not, since it then asks for a Stat alone.
func (o *timedOrigin) Get(ctx context.Context, key string, n int64) (origin.Info, io.ReadCloser, error) {
	op := "get"
	if _, ok := o.next.(origin.Getter); !ok {
		op = "stat"
	}
	start := time.Now()
	info, rc, err := origin.Get(ctx, o.next, key, n)
	o.observe(op, start, ignoreNotFound(err))
	return info, rc, err
}

// instrument wraps o with latency metrics.
func instrument(o origin.Origin, dist string, m *metrics) *timedOrigin {
	return &timedOrigin{next: o, dist: dist, hist: m.origin}
}

// watchOrigin reports at every scrape whether dist's origin is in use, as
// up (a health.Origin's Up) says. It fails for a name another distribution
// has (a config validate refuses).
func (m *metrics) watchOrigin(dist string, up func() bool) error {
	return m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "signet_origin_up",
		Help: "1 while a distribution's origin is in use; 0 from a call that found it unreachable " +
			"(refused, reset, timed out) until a probe gets an answer, meanwhile calls fail at once.",
		ConstLabels: prometheus.Labels{"distribution": dist},
	}, func() float64 {
		if up() {
			return 1
		}
		return 0
	}))
}

func ignoreNotFound(err error) error {
	if isNotFound(err) {
		return nil
	}
	return err
}

func statusLabel(code int) string { return strconv.Itoa(code) }

// Observe records one finished request; it implements access.Observer.
func (m *metrics) Observe(p *edge.Plan, rec *access.Record) {
	m.requests.WithLabelValues(p.Distribution, p.Behavior, statusLabel(rec.Status)).Inc()
	if p.Distribution != "" {
		m.bytes.WithLabelValues(p.Distribution).Add(float64(rec.Bytes))
	}
	if p.XCache != "" {
		m.edgeCacheRequests.WithLabelValues(p.Distribution, p.XCache).Inc()
	}
	var denial *cfsign.Error
	if p.Result == edge.ResultDeny && errors.As(p.Reason, &denial) {
		m.denials.WithLabelValues(denial.Code.String(), reasonLabel(p.Reason)).Inc()
	}
	// KeyID is set only for ids the behavior trusts, all of which keys
	// knows: an unknown id is never counted, nor becomes a series.
	if p.KeyID != "" {
		m.keys.observe(p.KeyID, p.Result != edge.ResultDeny, rec.Start)
	}
}

// edgeCacheCollector reports what each distribution's edge cache holds
// against its bounds, read from cache.Stats at every scrape.
type edgeCacheCollector struct {
	caches []namedCache // appended to only while the server is built
}

type namedCache struct {
	dist string
	c    *cache.Cache
	cfg  cache.Config
}

var (
	cacheBytesDesc = prometheus.NewDesc("signet_cache_bytes",
		"Bytes an edge cache holds, by distribution and tier (memory: chunks plus overhead; disk: files).",
		[]string{"distribution", "tier"}, nil)
	cacheLimitDesc = prometheus.NewDesc("signet_cache_limit_bytes",
		"The configured bound of each edge cache tier.", []string{"distribution", "tier"}, nil)
	cacheObjectsDesc = prometheus.NewDesc("signet_cache_chunks",
		"Chunks an edge cache holds, by distribution and tier.", []string{"distribution", "tier"}, nil)
	cacheFillingDesc = prometheus.NewDesc("signet_cache_filling_chunks",
		"Chunks being fetched from the origin or waiting to be written to disk.", []string{"distribution"}, nil)
)

func (c *edgeCacheCollector) add(dist string, ca *cache.Cache, cfg cache.Config) {
	c.caches = append(c.caches, namedCache{dist: dist, c: ca, cfg: cfg})
}

// Describe implements prometheus.Collector.
func (c *edgeCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cacheBytesDesc
	ch <- cacheLimitDesc
	ch <- cacheObjectsDesc
	ch <- cacheFillingDesc
}

// Collect implements prometheus.Collector.
func (c *edgeCacheCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, nc := range c.caches {
		st := nc.c.Stats()
		gauge(cacheBytesDesc, float64(st.MemoryBytes), nc.dist, "memory")
		gauge(cacheLimitDesc, float64(nc.cfg.MemoryBytes), nc.dist, "memory")
		gauge(cacheObjectsDesc, float64(st.MemoryChunks), nc.dist, "memory")
		if nc.cfg.DiskDir != "" {
			gauge(cacheBytesDesc, float64(st.DiskBytes), nc.dist, "disk")
			gauge(cacheLimitDesc, float64(nc.cfg.DiskBytes), nc.dist, "disk")
			gauge(cacheObjectsDesc, float64(st.DiskFiles), nc.dist, "disk")
		}
		gauge(cacheFillingDesc, float64(st.Filling), nc.dist)
	}
}
