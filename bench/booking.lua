-- wrk script: POST a one-seat booking per request, rotating through users and events.
-- Reads bench/.work/requests.txt: one line per user, "<token> <user id>", and
-- bench/.work/events.txt: one event id per line. EVENTLY_PATH picks the route.

local tokens, users, events = {}, {}, {}
local path = os.getenv("EVENTLY_PATH") or "/api/bookings"
local counter = 0

local function lines(name)
  local out = {}
  for line in io.lines(name) do out[#out + 1] = line end
  return out
end

function init(args)
  for _, line in ipairs(lines("bench/.work/requests.txt")) do
    local token, user = line:match("(%S+) (%S+)")
    tokens[#tokens + 1] = token
    users[#users + 1] = user
  end
  events = lines("bench/.work/events.txt")
  -- Each wrk thread starts at a different user so threads do not share a user's ten tickets.
  counter = math.random(#tokens)
end

function request()
  counter = counter + 1
  local u = (counter % #tokens) + 1
  local e = (counter % #events) + 1
  local body = string.format(
    '{"event_id": "%s", "user_id": "%s", "quantity": 1, "join_waitlist": false}',
    events[e], users[u])
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[u],
  }, body)
end

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
      .. '"p50_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.duration, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  local parts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("failures")) do
      parts[#parts + 1] = status .. "x" .. count
    end
  end
  if #parts > 0 then io.write("STATUSES " .. table.concat(parts, " ") .. "\n") end
end
