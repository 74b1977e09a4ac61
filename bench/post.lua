-- Visitors writing: POST .../messages with a fresh clientMessageId each.
local paths = {}
for p in string.gmatch(os.getenv("POST_PATHS"), "[^ ]+") do table.insert(paths, p) end
local secrets = {}
for s in string.gmatch(os.getenv("POST_SECRETS"), "[^ ]+") do table.insert(secrets, s) end
local key = os.getenv("API_KEY")
local n = 0
local tid = tostring(math.random(1, 1e9))
request = function()
  n = n + 1
  local i = (n % #paths) + 1
  local body = '{"messageText":"bench message ' .. n .. '","clientMessageId":"b' .. tid .. '-' .. n .. '"}'
  return wrk.format("POST", paths[i], {["X-API-Key"] = key, ["X-User-Session-Id"] = secrets[i], ["Content-Type"] = "application/json"}, body)
end
response = function(status)
  if status ~= 201 then io.stderr:write("unexpected status " .. status .. "\n") end
end
