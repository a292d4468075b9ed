-- wrk script: tickets go on sale. Each connection logs in once for every ten bookings
-- (POST /api/auth/login, then ten one-seat POST /api/bookings), and each kind of request is
-- timed on its own.
--
-- Run it with as many threads as connections (bench/run.py does): with one connection per
-- thread, every response() answers the request() just before it, so the script can time each
-- request itself. wrk's own latency figures mix both kinds.
--
-- Reads bench/.work/requests.txt ("<token> <user id> <email>" per user) and events.txt like
-- booking.lua, and deals bookings to users the same way (EVENTLY_START, EVENTLY_THREADS);
-- logins go round the users too. EVENTLY_PASSWORD is every bench user's password.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } evently_timespec;
int clock_gettime(int clock_id, evently_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("evently_timespec")

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1e3 + tonumber(clock.tv_nsec) / 1e6
end

local BOOKINGS_PER_LOGIN = 10
local tokens, users, emails, events = {}, {}, {}, {}
local password = os.getenv("EVENTLY_PASSWORD")
local step = tonumber(os.getenv("EVENTLY_THREADS") or "1")
local counter, sent = 0, 0
local kind, started

-- Per thread, read back in done(): latencies in ms by kind, and failures by "kind status".
login_ms, booking_ms, failures = {}, {}, {}

local function lines(name)
  local out = {}
  for line in io.lines(name) do out[#out + 1] = line end
  return out
end

function init(args)
  for _, line in ipairs(lines("bench/.work/requests.txt")) do
    local token, user, email = line:match("(%S+) (%S+) (%S+)")
    tokens[#tokens + 1] = token
    users[#users + 1] = user
    emails[#emails + 1] = email
  end
  events = lines("bench/.work/events.txt")
  counter = tonumber(os.getenv("EVENTLY_START") or "0") + thread_index
  -- Threads start at different points of their login-and-ten-bookings cycle, so the logins
  -- are spread over the run instead of all coming first.
  sent = thread_index % (BOOKINGS_PER_LOGIN + 1)
end

function request()
  sent = sent + 1
  local u = (counter % #tokens) + 1
  local headers = { ["Content-Type"] = "application/json" }
  local body
  if sent % (BOOKINGS_PER_LOGIN + 1) == 1 then
    kind = "login"
    body = string.format('{"email": "%s", "password": "%s"}', emails[u], password)
    started = now_ms()
    return wrk.format("POST", "/api/auth/login", headers, body)
  end
  kind = "booking"
  local e = (counter % #events) + 1
  counter = counter + step
  headers["Authorization"] = "Bearer " .. tokens[u]
  body = string.format(
    '{"event_id": "%s", "user_id": "%s", "quantity": 1, "join_waitlist": false}',
    events[e], users[u])
  started = now_ms()
  return wrk.format("POST", "/api/bookings", headers, body)
end

function response(status, headers, body)
  local ms = now_ms() - started
  local expected = 201
  if kind == "login" then
    login_ms[#login_ms + 1] = ms
    expected = 200
  else
    booking_ms[#booking_ms + 1] = ms
  end
  if status ~= expected then
    local key = kind .. "-" .. status
    failures[key] = (failures[key] or 0) + 1
  end
end

local threads = {}
local threads_started = 0

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_index", threads_started)
  threads_started = threads_started + 1
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, math.ceil(#sorted * p / 100))]
end

function done(summary, latency, requests)
  local all = { login = {}, booking = {} }
  local parts = {}
  for _, thread in ipairs(threads) do
    for _, ms in ipairs(thread:get("login_ms")) do all.login[#all.login + 1] = ms end
    for _, ms in ipairs(thread:get("booking_ms")) do all.booking[#all.booking + 1] = ms end
    for key, count in pairs(thread:get("failures")) do parts[#parts + 1] = key .. "x" .. count end
  end
  table.sort(all.login)
  table.sort(all.booking)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, '
      .. '"p50_ms": %.2f, "p99_ms": %.2f, "login_answers": %d, "booking_answers": %d, '
      .. '"login_p50_ms": %.2f, "login_p99_ms": %.2f, '
      .. '"booking_p50_ms": %.2f, "booking_p99_ms": %.2f}\n',
    summary.requests, summary.duration, errors, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, #all.login, #all.booking,
    percentile(all.login, 50), percentile(all.login, 99),
    percentile(all.booking, 50), percentile(all.booking, 99)))
  if #parts > 0 then io.write("STATUSES " .. table.concat(parts, " ") .. "\n") end
end
