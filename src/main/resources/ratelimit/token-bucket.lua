-- Takes one token from every bucket in KEYS, or from none when any is empty (all or nothing, atomically).
-- ARGV: capacity and window in milliseconds for each key, in order. Time is the Redis server's, so nodes with
-- drifting clocks agree. Each bucket is a hash {t = tokens (float), ts = last update in ms} that expires once it
-- would be full again, so idle buckets cost no memory.
-- Returns {allowed (1/0), then per key: whole tokens left, ms until full, ms until a token is back}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local tokens = {}
local allowed = 1
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[2 * i - 1])
  local rate = capacity / tonumber(ARGV[2 * i])
  local saved = redis.call('HMGET', KEYS[i], 't', 'ts')
  local t = tonumber(saved[1])
  local ts = tonumber(saved[2])
  if t == nil or ts == nil then
    t = capacity
  elseif now > ts then
    t = math.min(capacity, t + (now - ts) * rate)
  end
  tokens[i] = t
  if t < 1 then
    allowed = 0
  end
end
local out = {allowed}
for i = 1, #KEYS do
  local capacity = tonumber(ARGV[2 * i - 1])
  local rate = capacity / tonumber(ARGV[2 * i])
  local t = tokens[i]
  if allowed == 1 then
    t = t - 1
  end
  local untilFull = math.ceil((capacity - t) / rate)
  redis.call('HSET', KEYS[i], 't', tostring(t), 'ts', tostring(now))
  redis.call('PEXPIRE', KEYS[i], untilFull + 1000)
  local retry = 0
  if t < 1 then
    retry = math.ceil((1 - t) / rate)
  end
  out[#out + 1] = math.floor(t)
  out[#out + 1] = untilFull
  out[#out + 1] = retry
end
return out
