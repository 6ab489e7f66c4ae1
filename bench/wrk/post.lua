-- wrk script for POST /v1/messages?wait=5 (bench/wrk/run.sh): 512 conversations, one API key.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer wrkbenchkey0123456789abcdef"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/v1/messages?wait=5", nil,
    '{"channel_id":"c' .. (n % 512) .. '","user_id":"u1","content":"hello from wrk"}')
end
