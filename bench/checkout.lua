-- wrk script: a flash sale through the checkout (bench/checkout.py). Books one seat a request
-- as booking.lua does (the same users and events files, dealt the same way); when the answer
-- is a checkout (201 pending_payment, with its payment_url), every other one is paid: one of
-- the thread's next requests POSTs django-payments' dummy form to that page (status=confirmed,
-- fraud_status=accept, gateway_response=3ds-disabled), answered 302 to the return page. The
-- rest are walked away from, their seats held until the hold ends. Against a server with no
-- payment provider every booking is confirmed at once and the script only books.

local tokens, users, events = {}, {}, {}
local step = tonumber(os.getenv("EVENTLY_THREADS") or "1")
local counter, checkouts = 0, 0
local to_pay = {}
local FORM = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local PAID = "status=confirmed&fraud_status=accept&gateway_response=3ds-disabled"

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
  counter = tonumber(os.getenv("EVENTLY_START") or "0") + thread_index
end

function request()
  if #to_pay > 0 then
    return wrk.format("POST", table.remove(to_pay, 1), FORM, PAID)
  end
  local u = (counter % #tokens) + 1
  local e = (counter % #events) + 1
  counter = counter + step
  local body = string.format(
    '{"event_id": "%s", "user_id": "%s", "quantity": 1, "join_waitlist": false}',
    events[e], users[u])
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[u],
  }
  return wrk.format("POST", "/api/bookings", headers, body)
end

dofile("bench/report.lua")

-- After report.lua: a booking answers 201 and a paid form 302; anything else is a failure.
function response(status, headers, body)
  if status == 201 then
    local page = body:match('"payment_url":%s*"[^"]-(/checkout/[%x%-]+/)"')
    if page then
      checkouts = checkouts + 1
      if checkouts % 2 == 1 then to_pay[#to_pay + 1] = page end
    end
  elseif status ~= 302 then
    failures[status] = (failures[status] or 0) + 1
  end
end

local report_setup = setup
local threads_started = 0

function setup(thread)
  report_setup(thread)
  thread:set("thread_index", threads_started)
  threads_started = threads_started + 1
end
