-- load.lua — wrk script for the load suite: a fixed mix of POST /conv, /pool, /mlp
-- and GET /healthz, bodies read from the directory given after `--`. Counts responses by status
-- class per thread and prints one JSON line (prefixed "WRKJSON ") in done().
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local reqs = {}
local i = 0
s2xx, s4xx, s5xx, sother = 0, 0, 0, 0

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

function init(args)
  local dir = args[1]
  local h = {["Content-Type"] = "application/json"}
  local conv = wrk.format("POST", "/conv", h, slurp(dir .. "/conv.json"))
  local pool = wrk.format("POST", "/pool", h, slurp(dir .. "/pool.json"))
  local mlp = wrk.format("POST", "/mlp", h, slurp(dir .. "/mlp.json"))
  local hz = wrk.format("GET", "/healthz")
  -- mix: 3 conv, 2 pool, 2 mlp, 1 healthz out of every 8 requests
  reqs = {conv, pool, mlp, conv, hz, pool, mlp, conv}
end

function request()
  i = i + 1
  return reqs[(i % #reqs) + 1]
end

function response(status, headers, body)
  if status >= 200 and status < 300 then s2xx = s2xx + 1
  elseif status >= 400 and status < 500 then s4xx = s4xx + 1
  elseif status >= 500 then s5xx = s5xx + 1
  else sother = sother + 1 end
end

function done(summary, latency, requests)
  local c = {s2xx = 0, s4xx = 0, s5xx = 0, sother = 0}
  for _, t in ipairs(threads) do
    for k, _ in pairs(c) do c[k] = c[k] + (t:get(k) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "rps": %.1f, ' ..
    '"p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, ' ..
    '"err_connect": %d, "err_read": %d, "err_write": %d, "err_status": %d, "err_timeout": %d, ' ..
    '"s2xx": %d, "s4xx": %d, "s5xx": %d, "sother": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout, c.s2xx, c.s4xx, c.s5xx, c.sother))
end
