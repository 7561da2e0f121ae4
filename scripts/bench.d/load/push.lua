-- wrk script: every request is one award push with fresh ids (a new write, never a replay).
-- TOKEN (bearer) and NONCE (8 hex digits, unique per run) come from the environment.
local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local counter = 0
local nonce = os.getenv("NONCE") or "00000000"

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
end

local pupils = { "a1", "a2" }

function request()
  counter = counter + 1
  local n = string.format("%04x-%012x", tid, counter)
  local body = '{"writes":[{"client_id":"' .. nonce .. '-0000-4000-' .. n ..
    '","op":{"type":"award_points","awards":[{"award_id":"' .. nonce .. '-0001-4000-' .. n ..
    '","pupil_id":"' .. pupils[counter % 2 + 1] ..
    '"}],"skill_id":"classA-teamwork","note":null,"awarded_at":"2026-11-23T10:00:00Z"}}]}'
  return wrk.format(nil, "/v1/push", nil, body)
end
