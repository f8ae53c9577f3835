-- wrk script: every request uses the next key of a file (one key per line), each thread starting
-- at a different offset. Environment (read by bench.py into the script's init args):
--   args[1] keys file   args[2] mode: verify (body {"key": K}, caller fixed) | verify_ip (body
--   {"key": K, "ip": "127.0.0.1"}) | bearer (Authorization: Bearer K)
--   args[3] caller key (verify mode)   args[4] how many keys of the file to use (0: all)
local keys, n, i = {}, 0, 0
local mode, caller
local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("tid", threads)
end

function init(args)
   local limit = tonumber(args[4]) or 0
   for line in io.lines(args[1]) do
      n = n + 1
      keys[n] = line
      if limit > 0 and n >= limit then break end
   end
   mode, caller = args[2], args[3]
   i = ((tid or 1) * 7919) % n
end

function request()
   i = i % n + 1
   if mode == "verify" or mode == "verify_ip" then
      local ip = mode == "verify_ip" and ',"ip":"127.0.0.1"' or ''
      return wrk.format("POST", nil, {["Authorization"] = "Bearer " .. caller,
                                      ["Content-Type"] = "application/json"},
                        '{"key":"' .. keys[i] .. '"' .. ip .. '}')
   end
   return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. keys[i]}, nil)
end
