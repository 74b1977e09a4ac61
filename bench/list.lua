-- A manager's panel refreshing the chat list (and a search).
local token = os.getenv("TOKEN")
local n = 0
request = function()
  n = n + 1
  local path = "/api/chat/sessions?status=active&limit=50"
  if n % 4 == 0 then path = "/api/chat/sessions?search=067" end
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
