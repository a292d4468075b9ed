-- wrk script: POST a one-seat booking per request, rotating through users and events.
-- Reads bench/.work/requests.txt: one line per user, "<token> <user id>", and
-- bench/.work/events.txt: one event id per line. EVENTLY_PATH picks the route.
--
-- Users are dealt round-robin across the whole benchmark, so nobody reaches the ten-ticket
-- limit: EVENTLY_START is how many bookings earlier runs made (bench/run.py keeps count), and
-- each of the EVENTLY_THREADS threads takes every n-th user from there.

local tokens, users, events, types = {}, {}, {}, {}
local path = os.getenv("EVENTLY_PATH") or "/api/bookings"
local step = tonumber(os.getenv("EVENTLY_THREADS") or "1")
-- EVENTLY_IDEMPOTENCY=1: every booking carries an Idempotency-Key of its own (its number).
local keyed = os.getenv("EVENTLY_IDEMPOTENCY") == "1"
local counter = 0

local function lines(name)
  local out = {}
  for line in io.lines(name) do out[#out + 1] = line end
  return out
end

function init(args)
  -- EVENTLY_REQUESTS: another users' file (the reference DRF floor's tokens).
  for _, line in ipairs(lines(os.getenv("EVENTLY_REQUESTS") or "bench/.work/requests.txt")) do
    local token, user = line:match("(%S+) (%S+)")
    tokens[#tokens + 1] = token
    users[#users + 1] = user
  end
  events = lines("bench/.work/events.txt")
  -- bench/.work/types.txt: ticket type ids of those events; when there are any, each booking
  -- names one of them in `items`, in turn.
  local ok, found = pcall(lines, "bench/.work/types.txt")
  if ok then types = found end
  counter = tonumber(os.getenv("EVENTLY_START") or "0") + thread_index
end

function request()
  local u = (counter % #tokens) + 1
  local e = (counter % #events) + 1
  counter = counter + step
  local body
  if #types > 0 then
    body = string.format(
      '{"event_id": "%s", "user_id": "%s", "items": [{"ticket_type_id": "%s", "quantity": 1}], '
        .. '"join_waitlist": false}',
      events[e], users[u], types[(counter % #types) + 1])
  else
    body = string.format(
      '{"event_id": "%s", "user_id": "%s", "quantity": 1, "join_waitlist": false}',
      events[e], users[u])
  end
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[u],
  }
  if keyed then headers["Idempotency-Key"] = "bench-" .. counter end
  return wrk.format("POST", path, headers, body)
end

dofile("bench/report.lua")

local report_setup = setup
local threads_started = 0

function setup(thread)
  report_setup(thread)
  thread:set("thread_index", threads_started)
  threads_started = threads_started + 1
end
