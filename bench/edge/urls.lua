-- wrk script for bench/edge: requests come from a file of request targets
-- (path and query, one a line), sent with a fixed Host header.
--
--   wrk -t THREADS ... -s urls.lua URL -- FILE MODE HOST THREADS
--
-- MODE "cycle" loads every target and cycles through them (the warm cases:
-- 10,000 distinct signed links, each seen again every 10,000 requests).
-- MODE "once" reads the file in order and never repeats a line (the cold
-- cases: every request carries a link the server has not seen). Threads
-- split the lines between them (line k goes to thread k mod threads). When
-- a thread runs out it sends /__edgebench_exhausted__ instead, which no
-- server answers with a 2xx, and done() reports how often that happened:
-- the run is then invalid and edgebench fails it.
--
-- done() prints one line, "EDGEBENCH key=value ...", that edgebench parses.
-- No response() callback is defined, so wrk does not hand bodies to Lua.

-- wrk calls setup (in its main Lua state) and then init (in the thread's
-- own state) for one thread before it sets up the next, so init cannot
-- count the threads: THREADS comes as an argument.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

-- Globals, so that done() can read them through thread:get.
exhausted = 0
sent = 0

local mode, reqs, n, i, file, nthreads

function init(args)
  local path = args[1]
  mode = args[2]
  wrk.headers["Host"] = args[3]
  nthreads = tonumber(args[4])
  if mode == "cycle" then
    reqs, n = {}, 0
    for line in io.lines(path) do
      n = n + 1
      reqs[n] = wrk.format("GET", line)
    end
    if n == 0 then
      error("no request targets in " .. path)
    end
    -- Threads start at different places in the cycle.
    i = math.floor(id * n / nthreads)
  elseif mode == "once" then
    file = assert(io.open(path, "r"))
    -- Skip to this thread's first line.
    for _ = 1, id do
      file:read("*l")
    end
  else
    error("mode must be cycle or once, got " .. tostring(mode))
  end
end

function request()
  if mode == "cycle" then
    i = i % n + 1
    sent = sent + 1
    return reqs[i]
  end
  local line = file:read("*l")
  -- Skip the other threads' lines.
  for _ = 2, nthreads do
    file:read("*l")
  end
  if line == nil or line == "" then
    exhausted = exhausted + 1
    return wrk.format("GET", "/__edgebench_exhausted__")
  end
  sent = sent + 1
  return wrk.format("GET", line)
end

function done(summary, latency, requests)
  local ex, s = 0, 0
  for _, t in ipairs(threads) do
    ex = ex + t:get("exhausted")
    s = s + t:get("sent")
  end
  local e = summary.errors
  io.write(string.format(
    "EDGEBENCH requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
    "p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.1f exhausted=%d sent=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    ex, s))
end
