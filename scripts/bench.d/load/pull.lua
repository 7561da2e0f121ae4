-- wrk script: a device's incremental pull at the head of the log (what an idle phone does).
-- TOKEN (bearer) and SINCE (the head cursor) come from the environment.
function init(args)
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  wrk.path = "/v1/pull?since=" .. (os.getenv("SINCE") or "0")
end
