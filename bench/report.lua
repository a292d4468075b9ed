-- Shared by the wrk scripts (loaded with dofile): the summary line bench/run.py reads.

-- Count the answers that were not a success, by status, per thread, for the log.
failures = {}
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function response(status, headers, body)
  if status >= 300 then failures[status] = (failures[status] or 0) + 1 end
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, '
      .. '"p50_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  local parts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("failures")) do
      parts[#parts + 1] = status .. "x" .. count
    end
  end
  if #parts > 0 then io.write("STATUSES " .. table.concat(parts, " ") .. "\n") end
end
