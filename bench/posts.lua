-- wrk script of bench/pages.py: posts forms, each request with its own address, cookie and body.
--   wrk ... -s bench/posts.lua http://127.0.0.1:PORT/ -- LISTING EXPECTED_STATUS THREADS
-- LISTING has one request a line: path, cookie and urlencoded body, separated by tabs. Each wrk
-- thread takes every THREADS-th line, so that no two requests post the same slot. A response
-- other than EXPECTED_STATUS (the form shown again: refused) is counted as unexpected, and a
-- thread that has posted all of its lines counts the requests after them as ran_out.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local listing, count = args[1], tonumber(args[3])
  expected = tonumber(args[2])
  requests, sent, unexpected, ran_out = {}, 0, 0, 0
  local line_number = 0
  for line in io.lines(listing) do
    if line_number % count == id then
      local path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      table.insert(requests, wrk.format("POST", path, {
        ["Cookie"] = cookie, ["Content-Type"] = "application/x-www-form-urlencoded"}, body))
    end
    line_number = line_number + 1
  end
end

function request()
  sent = sent + 1
  if sent > #requests then
    ran_out = ran_out + 1
    if #requests == 0 then
      return wrk.format("GET", "/health")
    end
  end
  return requests[(sent - 1) % #requests + 1]
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local unexpected_all, ran_out_all = 0, 0
  for _, thread in ipairs(threads) do
    unexpected_all = unexpected_all + thread:get("unexpected")
    ran_out_all = ran_out_all + thread:get("ran_out")
  end
  io.write(string.format("posts: unexpected %d ran_out %d\n", unexpected_all, ran_out_all))
end
