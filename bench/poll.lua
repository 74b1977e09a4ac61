-- A widget polling its chat: GET .../messages?since=<seq> with the key and
-- the visitor secret. Paths and headers come from the environment.
local paths = {}
for p in string.gmatch(os.getenv("POLL_PATHS"), "[^ ]+") do table.insert(paths, p) end
local secrets = {}
for s in string.gmatch(os.getenv("POLL_SECRETS"), "[^ ]+") do table.insert(secrets, s) end
local key = os.getenv("API_KEY")
local n = 0
request = function()
  n = n + 1
  local i = (n % #paths) + 1
  return wrk.format("GET", paths[i], {["X-API-Key"] = key, ["X-User-Session-Id"] = secrets[i]})
end
