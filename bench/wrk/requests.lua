-- wrk script of the benchmark (scripts/bench). It sends requests written by bench-requests:
-- a file of records, each `<length>\n<raw HTTP/1.1 request>`. Environment:
--   BENCH_FILE    the record file
--   BENCH_MODE    static: the first record, sent again and again through wrk's cached request
--                         (wrk's fastest path: no Lua call per request);
--                 once:   each record once, in order, then the thread stops (signed calls:
--                         every record carries its own nonce, a second send is a replay);
--                 cycle:  the records round robin until BENCH_LIMIT requests, then stop.
--   BENCH_LIMIT   cycle mode's request count (0: no limit, the run's -d bounds it)
--   BENCH_MARKER  when set, every answer is checked: a 2xx status and this text in the body
--                 (slower: wrk parses bodies only when `response` is defined; used in the
--                 checking runs, never in the timed ones)
-- A thread that reaches the end of a `once` file stops and says so (`exhausted`): wrk still
-- waits out -d, so such a run's rate is void and the file must be longer.
-- `done` prints one line `BENCH {json}` that bench/run.py reads.

local path = assert(os.getenv("BENCH_FILE"), "BENCH_FILE is not set")
local mode = os.getenv("BENCH_MODE") or "static"
local limit = tonumber(os.getenv("BENCH_LIMIT") or "0")
local marker = os.getenv("BENCH_MARKER")

local function read_record(file)
  local length = file:read("*l")
  if not length then return nil end
  return file:read(tonumber(length))
end

local function read_all(name)
  local file = assert(io.open(name, "rb"))
  local records = {}
  for record in function() return read_record(file) end do
    records[#records + 1] = record
  end
  file:close()
  assert(#records > 0, name .. " holds no record")
  return records
end

-- wrk's cached request wants its parts; Host and Content-Length it writes itself.
local function use_as_static(raw)
  local head, body = raw:match("^(.-)\r\n\r\n(.*)$")
  local method, target = head:match("^(%S+) (%S+) HTTP/1%.1")
  wrk.method, wrk.path, wrk.body = method, target, body
  wrk.headers = {}
  for name, value in head:gmatch("\r\n([^:\r\n]+): ([^\r\n]*)") do
    local lower = name:lower()
    if lower ~= "host" and lower ~= "content-length" then wrk.headers[name] = value end
  end
end

if mode == "static" then
  use_as_static(read_all(path)[1])
elseif mode == "once" then
  local file
  -- What a thread sends after the last record while it stops: a read nobody counts on.
  local idle = "GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
  function init(args) file = assert(io.open(path, "rb")) end
  function request()
    local record = read_record(file)
    if record then return record end
    exhausted = 1
    wrk.thread:stop()
    return idle
  end
elseif mode == "cycle" then
  local records, sent
  function init(args) records, sent = read_all(path), 0 end
  function request()
    sent = sent + 1
    if limit > 0 and sent >= limit then wrk.thread:stop() end
    return records[(sent - 1) % #records + 1]
  end
else
  error("BENCH_MODE must be static, once or cycle, not " .. mode)
end

if marker then
  good, bad = 0, 0
  function response(status, headers, body)
    if status >= 200 and status < 300 and body and body:find(marker, 1, true) then
      good = good + 1
    else
      bad = bad + 1
      if bad <= 3 then
        io.stderr:write("unexpected answer: HTTP " .. status .. " " .. tostring(body):sub(1, 300) .. "\n")
      end
    end
  end
end

local threads = {}
function setup(thread) threads[#threads + 1] = thread end

function done(summary, latency, requests)
  local good, bad, exhausted = 0, 0, 0
  for _, thread in ipairs(threads) do
    good = good + (thread:get("good") or 0)
    bad = bad + (thread:get("bad") or 0)
    exhausted = exhausted + (thread:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,' ..
    '"socket":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"good":%d,"bad":%d,"exhausted":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    e.connect, e.read, e.write, e.timeout, good, bad, exhausted))
end
