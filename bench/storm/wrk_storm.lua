-- wrk script: walk distinct phones' real file names with their real User-Agents.
-- STORM_REQUESTS names a file of "PATH<TAB>USER-AGENT" lines (wrk_storm.py writes it);
-- each wrk thread starts at its own offset so threads do not ask for the same file at once.
local requests = {}
local counter = 0
local threads = {}

function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   for line in io.lines(os.getenv("STORM_REQUESTS")) do
      local path, agent = line:match("^([^\t]+)\t(.*)$")
      if path then
         requests[#requests + 1] = wrk.format("GET", path, { ["User-Agent"] = agent })
      end
   end
   counter = (id or 0) * math.floor(#requests / 7)
end

function request()
   counter = counter + 1
   if counter > #requests then
      counter = 1
   end
   return requests[counter]
end
