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

dofile("bench/report.lua")
