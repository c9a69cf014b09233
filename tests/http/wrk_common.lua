-- wrk_common.lua — shared by wrk_conv.lua / wrk_mlp.lua: POST a JSON body, and print one JSON
-- line (requests/s, latency percentiles, errors) when the run ends, like the other benchmarks.
local M = {}

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function M.base64(data)
  local out, n = {}, #data
  for i = 1, n, 3 do
    local a, b, c = data:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local s1 = math.floor(v / 262144) % 64
    local s2 = math.floor(v / 4096) % 64
    local s3 = math.floor(v / 64) % 64
    local s4 = v % 64
    out[#out + 1] = B64:sub(s1 + 1, s1 + 1) .. B64:sub(s2 + 1, s2 + 1) ..
      (b and B64:sub(s3 + 1, s3 + 1) or "=") .. (c and B64:sub(s4 + 1, s4 + 1) or "=")
  end
  return table.concat(out)
end

function M.read(path)
  local f = assert(io.open(path, "rb"))
  local d = f:read("*a")
  f:close()
  return d
end

function M.setup(name, body)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = body
  done = function(summary, latency, requests)
    local secs = summary.duration / 1e6
    io.write(string.format(
      '{"bench": "http", "case": "%s", "connections": %s, "requests": %d, "rps": %.1f, ' ..
      '"p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "errors": %d, "non_2xx": %d}\n',
      name, os.getenv("WRK_CONNECTIONS") or "null", summary.requests, summary.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
      summary.errors.status))
  end
end

return M
