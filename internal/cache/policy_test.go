package cache_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cache"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/origintest"
	"github.com/signet-dev/signet/internal/testenv"
)

func TestLifetime(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	def := cache.TTL{Default: time.Hour, Max: 24 * time.Hour}
	minTTL := cache.TTL{Min: 5 * time.Minute, Default: time.Hour, Max: 24 * time.Hour}
	httpDate := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name          string
		ttl           cache.TTL
		cacheControl  string
		expires       string
		want          time.Duration
		wantStoreable bool
	}{
		{"no-headers", def, "", "", time.Hour, true},
		{"max-age", def, "max-age=60", "", time.Minute, true},
		{"s-maxage-wins", def, "max-age=60, s-maxage=600", "", 10 * time.Minute, true},
		{"case-insensitive", def, "public, MAX-AGE=120", "", 2 * time.Minute, true},
		{"quoted", def, `max-age="30"`, "", 30 * time.Second, true},
		{"spaces", def, " public ,  max-age=45 ", "", 45 * time.Second, true},
		{"below-min", minTTL, "max-age=10", "", 5 * time.Minute, true},
		{"above-max", def, "max-age=999999", "", 24 * time.Hour, true},
		{"overflow", def, "max-age=99999999999999999999999", "", 24 * time.Hour, true},
		{"invalid-is-stale", def, "max-age=abc", "", 0, true},
		{"negative-is-stale", def, "max-age=-5", "", 0, true},
		{"repeated-smallest", def, "max-age=600, max-age=60", "", time.Minute, true},
		{"no-store", def, "no-store", "", 0, false},
		{"no-store-with-min", minTTL, "no-store", "", 5 * time.Minute, true},
		{"no-cache", def, "no-cache, max-age=600", "", 0, true},
		{"no-cache-fields", def, `no-cache="Set-Cookie", max-age=60`, "", time.Minute, true},
		{"private", def, "private, max-age=600", "", 0, false},
		{"private-fields", def, `private="X-Secret", max-age=60`, "", time.Minute, true},
		{"expires-future", def, "", httpDate(2 * time.Hour), 2 * time.Hour, true},
		{"expires-past", def, "", httpDate(-time.Hour), 0, true},
		{"expires-invalid", def, "", "0", 0, true},
		{"max-age-beats-expires", def, "max-age=60", httpDate(2 * time.Hour), time.Minute, true},
		{"must-revalidate", def, "max-age=60, must-revalidate", "", time.Minute, true},
		{"behavior-max-zero", cache.TTL{}, "max-age=600", "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info := origin.Info{Key: "k", ETag: `"e"`, CacheControl: tc.cacheControl, Expires: tc.expires}
			got, store := tc.ttl.Lifetime(info, now)
			if got != tc.want || store != tc.wantStoreable {
				t.Errorf("%+v.Lifetime(Cache-Control %q, Expires %q) = %v, %v; want %v, %v",
					tc.ttl, tc.cacheControl, tc.expires, got, store, tc.want, tc.wantStoreable)
			}
		})
	}
}

// FuzzLifetime checks that any Cache-Control and Expires give a lifetime
// inside the behavior's bounds, and that only no-store or private with no
// minimum keep a response out of the cache.
func FuzzLifetime(f *testing.F) {
	for _, s := range []string{"", "max-age=60", "no-store", "s-maxage=1, private", `no-cache="a,b"`, "max-age=99999999999999999999", "=,=,", "max-age"} {
		f.Add(s, "", int64(0), int64(3600), int64(86400))
	}
	f.Add("", "Wed, 21 Oct 2015 07:28:00 GMT", int64(60), int64(60), int64(60))
	f.Fuzz(func(t *testing.T, cacheControl, expires string, minS, defS, maxS int64) {
		ttl := cache.TTL{Min: time.Duration(minS) * time.Second, Default: time.Duration(defS) * time.Second, Max: time.Duration(maxS) * time.Second}
		if ttl.Min < 0 || ttl.Min > ttl.Default || ttl.Default > ttl.Max || ttl.Max > 1<<40 {
			return // New refuses such TTLs
		}
		info := origin.Info{CacheControl: cacheControl, Expires: expires}
		life, store := ttl.Lifetime(info, time.Unix(2e9, 0))
		if life < ttl.Min || life > ttl.Max {
			t.Errorf("Lifetime(%q, %q) = %v; want within [%v, %v]", cacheControl, expires, life, ttl.Min, ttl.Max)
		}
		if !store && (ttl.Min > 0 || life != 0) {
			t.Errorf("Lifetime(%q, %q) = %v, not storable, with Min %v; want storable, or 0 with Min 0", cacheControl, expires, life, ttl.Min)
		}
	})
}

// TestFreshness follows one object through time with an injected clock:
// fresh Stats are Hits, the first Stat past the lifetime asks the origin
// (a RefreshHit when the Info was kept), and a body is read from the
// origin again only when it could not be kept.
func TestFreshness(t *testing.T) {
	def := cache.TTL{Default: time.Minute, Max: time.Hour}
	tests := []struct {
		name         string
		ttl          cache.TTL
		cacheControl string
		life         time.Duration // 0: never fresh
		kept         bool
	}{
		{"default-ttl", def, "", time.Minute, true},
		{"max-age", def, "max-age=10", 10 * time.Second, true},
		{"clamped-to-max", def, "max-age=86400", time.Hour, true},
		{"no-cache", def, "no-cache", 0, true},
		{"always-revalidate", cache.TTL{}, "max-age=600", 0, true},
		{"no-store", def, "no-store", 0, false},
		{"no-store-with-min", cache.TTL{Min: 30 * time.Second, Default: time.Minute, Max: time.Hour}, "no-store", 30 * time.Second, true},
		{"private", def, "private", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := testenv.NewClock(clockStart)
			o := origintest.NewMem()
			data := origintest.Content(tc.name, 2000)
			putCaching(o, "a.bin", data, tc.cacheControl)
			c := newCache(t, o, cache.Config{TTL: tc.ttl, Now: clk.Now})
			request := func() origin.Outcome {
				out, _ := outcomeOf(t, func(ctx context.Context) {
					info, err := c.Stat(ctx, "a.bin")
					if err != nil {
						t.Fatal(err)
					}
					mustRead(t, ctx, c, info, 0, -1, data)
				})
				return out
			}
			if out := request(); out != origin.Miss {
				t.Errorf("first request: %v; want Miss", out)
			}
			if tc.life > 0 {
				clk.Add(tc.life - time.Second)
				if out := request(); out != origin.Hit || o.Stats.Load() != 1 {
					t.Errorf("request 1s before the lifetime ends: %v, origin Stats %d; want Hit, 1", out, o.Stats.Load())
				}
				clk.Add(time.Second)
			}
			wantOut, wantOpens := origin.RefreshHit, int64(1)
			if !tc.kept {
				wantOut, wantOpens = origin.Miss, 2
			}
			if out := request(); out != wantOut || o.Stats.Load() != 2 || o.Opens.Load() != wantOpens {
				t.Errorf("request at the lifetime's end: %v, origin Stats %d, Opens %d; want %v, 2, %d",
					out, o.Stats.Load(), o.Opens.Load(), wantOut, wantOpens)
			}
		})
	}
}

// TestWithTTL reads through a view with a behavior's TTL: the same cached
// Info is stale for it and fresh for the Config's; and a view whose Min
// keeps a no-store body keeps it, where the Cache itself does not.
func TestWithTTL(t *testing.T) {
	clk := testenv.NewClock(clockStart)
	o := origintest.NewMem()
	o.Put("a.txt", []byte("x"))
	c := newCache(t, o, cache.Config{TTL: cache.TTL{Default: time.Hour, Max: time.Hour}, Now: clk.Now})
	mustStat(t, c, "a.txt")
	clk.Add(time.Minute)
	short := c.WithTTL(cache.TTL{Default: 30 * time.Second, Max: 30 * time.Second})
	mustStat(t, short, "a.txt")
	if got := o.Stats.Load(); got != 2 {
		t.Errorf("origin Stats after a Stat with a 30s TTL, a minute on = %d; want 2", got)
	}
	mustStat(t, c, "a.txt")
	if got := o.Stats.Load(); got != 2 {
		t.Errorf("origin Stats after a Stat with the Config's hour = %d; want 2", got)
	}

	putCaching(o, "b.txt", []byte("no-store"), "no-store")
	keeping := c.WithTTL(cache.TTL{Min: 30 * time.Second, Default: time.Minute, Max: time.Hour})
	for _, tc := range []struct {
		name  string
		o     origin.Origin
		opens int64 // origin Opens for two reads
	}{{"Cache", c, 2}, {"view with Min", keeping, 1}} {
		before := o.Opens.Load()
		for range 2 {
			info := mustStat(t, tc.o, "b.txt")
			mustRead(t, t.Context(), tc.o, info, 0, -1, []byte("no-store"))
			settle(t, c)
		}
		if got := o.Opens.Load() - before; got != tc.opens {
			t.Errorf("%s: origin Opens for two reads of a no-store object = %d; want %d", tc.name, got, tc.opens)
		}
	}
}

// TestStaleIfError lets an Info expire, then makes the origin fail: within
// MaxStale (or the origin's narrower stale-if-error) the stale Info and
// its cached body are served as a RefreshHit; past it, or when the origin
// says the object is gone, or forbids stale use, the request fails.
func TestStaleIfError(t *testing.T) {
	down := errors.New("mem origin: 503 service unavailable")
	tests := []struct {
		name         string
		cacheControl string
		readBody     bool
		statErr      error
		remove       bool
		after        time.Duration // past the lifetime of a minute
		wantStale    bool
	}{
		{"within-max-stale", "max-age=60", true, down, false, time.Hour - time.Second, true},
		{"past-max-stale", "max-age=60", true, down, false, time.Hour, false},
		{"origin-stale-if-error", "max-age=60, stale-if-error=10", true, down, false, 9 * time.Second, true},
		{"past-origin-stale-if-error", "max-age=60, stale-if-error=10", true, down, false, 10 * time.Second, false},
		{"must-revalidate", "max-age=60, must-revalidate", true, down, false, time.Second, false},
		{"body-not-cached", "max-age=60", false, down, false, time.Second, false},
		{"not-found", "max-age=60", true, nil, true, time.Second, false},
		{"forbidden", "max-age=60", true, fs.ErrPermission, false, time.Second, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := testenv.NewClock(clockStart)
			o := origintest.NewMem()
			data := origintest.Content(tc.name, 50_000)
			putCaching(o, "a.bin", data, tc.cacheControl)
			c := newCache(t, o, cache.Config{ChunkSize: 16 << 10, TTL: cache.TTL{Default: time.Hour, Max: time.Hour}, MaxStale: time.Hour, Now: clk.Now})
			info := mustStat(t, c, "a.bin")
			if tc.readBody {
				mustRead(t, t.Context(), c, info, 0, -1, data)
				settle(t, c) // the last chunk is stored just after it is read
			}
			clk.Add(time.Minute + tc.after)
			o.FailStat(tc.statErr)
			o.FailOpen(tc.statErr)
			if tc.remove {
				o.Remove("a.bin")
			}
			var got origin.Info
			var err error
			out, stale := outcomeOf(t, func(ctx context.Context) {
				if got, err = c.Stat(ctx, "a.bin"); err == nil {
					mustRead(t, ctx, c, got, 0, -1, data)
				}
			})
			if tc.wantStale {
				if err != nil || got.ETag != info.ETag || out != origin.RefreshHit || !stale {
					t.Errorf("Stat = %s, %v; outcome %v, stale %v; want the stale Info, a stale RefreshHit", got.ETag, err, out, stale)
				}
				return
			}
			if err == nil || out != origin.Error || stale {
				t.Errorf("Stat = %s, %v; outcome %v, stale %v; want an error, Error", got.ETag, err, out, stale)
			}
			if tc.remove && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Stat of a removed object = %v; want fs.ErrNotExist", err)
			}
		})
	}
}

// TestStaleRecovery serves stale while the origin is down, then revalidates
// normally once it is back.
func TestStaleRecovery(t *testing.T) {
	clk := testenv.NewClock(clockStart)
	o := origintest.NewMem()
	putCaching(o, "a.txt", []byte("hello"), "max-age=60")
	c := newCache(t, o, cache.Config{TTL: cache.TTL{Default: time.Hour, Max: time.Hour}, MaxStale: time.Hour, Now: clk.Now})
	info := mustStat(t, c, "a.txt")
	mustRead(t, t.Context(), c, info, 0, -1, []byte("hello"))
	settle(t, c)
	clk.Add(2 * time.Minute)
	o.FailStat(errors.New("down"))
	for i := range 3 {
		if out, stale := outcomeOf(t, func(ctx context.Context) { c.Stat(ctx, "a.txt") }); out != origin.RefreshHit || !stale {
			t.Errorf("Stat %d while the origin is down: %v, stale %v; want RefreshHit, stale", i, out, stale)
		}
	}
	o.FailStat(nil)
	if out, stale := outcomeOf(t, func(ctx context.Context) { c.Stat(ctx, "a.txt") }); out != origin.RefreshHit || stale {
		t.Errorf("Stat once the origin is back: %v, stale %v; want RefreshHit, not stale", out, stale)
	}
	if out, _ := outcomeOf(t, func(ctx context.Context) { c.Stat(ctx, "a.txt") }); out != origin.Hit {
		t.Errorf("Stat after revalidating: %v; want Hit", out)
	}
	if got := o.Stats.Load(); got != 5 {
		t.Errorf("origin Stats = %d; want 5 (each failed Stat tried the origin)", got)
	}
}
