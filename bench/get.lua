-- wrk script: GET one path, optionally with a bearer token (EVENTLY_TOKEN).
local token = os.getenv("EVENTLY_TOKEN")

function request()
  local headers = {}
  if token then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", nil, headers)
end

dofile("bench/report.lua")
