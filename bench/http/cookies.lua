-- wrk script of the HTTP benchmark: every request carries the cookie of one
-- of the pre-made sessions (BENCH_COOKIES: a file, one Cookie header a
-- line), spread round-robin from a different start in each wrk thread; at
-- the end one line "BENCH_JSON {...}" with the counts and percentiles (µs).

local cookies = {}
for line in io.lines(os.getenv("BENCH_COOKIES")) do
  if #line > 0 then cookies[#cookies + 1] = line end
end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("start", counter * 97)
  table.insert(threads, thread)
end

local i = 0

function init(args)
  i = start or 0
end

function request()
  i = i + 1
  return wrk.format(nil, nil, { ["Cookie"] = cookies[(i % #cookies) + 1] })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
