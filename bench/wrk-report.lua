-- wrk script for bench/load.sh and bench/oidc.sh: prints one
-- machine-readable line at the end of a run, with exact figures instead of
-- wrk's rounded text:
--
--   RESULT requests=N duration_us=D rps=R mean_us=M stdev_us=S p50_us=P50
--          p90_us=P90 p99_us=P99 max_us=X non2xx=E errors=F
--
-- Latencies are wrk's, in microseconds; non2xx counts responses whose status
-- was not 2xx, errors the socket errors (connect, read, write, timeout).
--
-- With WRK_BODY set in the environment, every request is a POST of that
-- body as application/x-www-form-urlencoded (bench/oidc.sh: token and
-- introspection requests; other headers are given with wrk -H).

local body = os.getenv("WRK_BODY")
if body ~= nil and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f mean_us=%.1f stdev_us=%.1f " ..
    "p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d errors=%d\n",
    summary.requests, summary.duration, summary.requests / secs,
    latency.mean, latency.stdev,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
