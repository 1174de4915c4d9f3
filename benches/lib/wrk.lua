-- wrk script for benches/run: sends the request headers given after `--`
-- ("Name: value" each), and prints the run's figures as one JSON line
-- (prefixed "JSON ") at the end.
--   wrk -t2 -c64 -d10s -s benches/lib/wrk.lua URL -- 'Accept-Encoding: gzip'

function init(args)
  for _, header in ipairs(args) do
    local name, value = header:match("^([^:]+):%s*(.*)$")
    if name then
      wrk.headers[name] = value
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests": %d, "duration_us": %d, "bytes": %d, "rps": %.1f, ' ..
    '"latency_p50_us": %d, "latency_p99_us": %d, "latency_max_us": %d, "latency_mean_us": %.1f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, summary.bytes, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
