import { LuaScript } from './lua-script';

/*
 * Stream ids: `<generation>-<index>`.
 *
 * XADD only takes an id above the stream's last generated id, even after that entry was
 * deleted, so a log that truncates its suffix cannot simply re-add `<index>-0`. XSETID
 * cannot be relied on to lower the last id either (Redis 7.2+ refuses to go below the
 * highest deleted id). Instead every truncation bumps a generation kept in the meta hash,
 * and new records are written as `<gen>-<index>`:
 *   - the kept prefix has generations <= gen and indices < first; the new suffix has gen+1
 *     and indices >= first, so stream order is still log order, and every new id is above
 *     any id the stream ever held — on every Redis version, with no XSETID;
 *   - a truncation costs O(dropped suffix) (XDEL), not O(kept prefix) as a rebuild would;
 *   - the sequence part is always the log index, so load() reads indices straight from ids.
 * The generation is 0 until the first truncation, so a log that never truncates reads 0-1, 0-2, ...
 *
 * Compaction trims the front with XTRIM MAXLEN (exact) rather than MINID: the first kept
 * record's id has an unknown generation, but the stream holds exactly the records
 * snapIndex+1..last (checked by `intact` before any write), so keeping the newest
 * last-s entries drops exactly the records <= s and never one above it.
 *
 * Redis does not roll back a script's earlier writes when a later command fails, so both
 * scripts do every read and check first and write only after the last check.
 */

const PRELUDE = `
local function seq(id) return tonumber(string.match(id, '%-(%d+)$')) end

-- The last index held: the top stream entry, or the snapshot index when the log is empty.
local function lastIndex(log, base)
  local top = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)
  if #top == 0 then return base end
  return seq(top[1][1])
end

-- The stream must hold exactly base+1..last (ids ascend, so the ends and the count suffice).
local function intact(log, base, last)
  if redis.call('XLEN', log) ~= last - base then return false end
  if last == base then return true end
  local bottom = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
  return seq(bottom[1][1]) == base + 1
end

-- Slots at or below a snapshot are garbage.
local function dropSlotsUpTo(slots, s)
  local doomed = {}
  for _, k in ipairs(redis.call('HKEYS', slots)) do
    if tonumber(k) <= s then doomed[#doomed + 1] = k end
  end
  for i = 1, #doomed, 512 do
    redis.call('HDEL', slots, unpack(doomed, i, math.min(i + 511, #doomed)))
  end
end

local function corrupt(base, last)
  return redis.error_reply('SYNOD_CORRUPT stream does not hold exactly ' .. (base + 1) .. '..' .. last)
end
`;

/**
 * KEYS: log, hs, snap, meta, slots
 * ARGV: snapIndex|'' , snapData, '1'|'0' (hard state given), hardState, firstIndex|'',
 *       nRecords, nSlotPuts, nSlotDrops, record data..., (slot index, slot data)..., slot index...
 * Returns the new last index.
 */
export const PERSIST = new LuaScript(`${PRELUDE}
local log, hs, snap, meta, slots = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local installing = ARGV[1] ~= ''
local n = tonumber(ARGV[6])
local nPut = tonumber(ARGV[7])
local nDrop = tonumber(ARGV[8])
local first = tonumber(ARGV[5])
local D = 8

local base, last
if installing then
  base = tonumber(ARGV[1])
  last = base
else
  base = tonumber(redis.call('HGET', snap, 'index') or '0')
  last = lastIndex(log, base)
  if not intact(log, base, last) then return corrupt(base, last) end
end
if n > 0 and (first <= base or first > last + 1) then
  return redis.error_reply('SYNOD_CONFLICT records starting at ' .. first .. ' do not fit a log holding '
    .. (base + 1) .. '..' .. last .. ' (snapshot at ' .. base .. ')')
end

-- Checks done; writes from here on.
if installing then
  redis.call('DEL', log)
  redis.call('HSET', snap, 'index', ARGV[1], 'data', ARGV[2])
  dropSlotsUpTo(slots, base)
end
if ARGV[3] == '1' then redis.call('SET', hs, ARGV[4]) end
if n > 0 then
  local gen = tonumber(redis.call('HGET', meta, 'gen') or '0')
  if first <= last then
    local doomed = last - first + 1
    while doomed > 0 do
      local page = redis.call('XREVRANGE', log, '+', '-', 'COUNT', math.min(doomed, 512))
      if #page == 0 then break end
      local ids = {}
      for i, entry in ipairs(page) do ids[i] = entry[1] end
      redis.call('XDEL', log, unpack(ids))
      doomed = doomed - #ids
    end
    gen = gen + 1
    redis.call('HSET', meta, 'gen', string.format('%d', gen))
  end
  for i = 1, n do
    redis.call('XADD', log, string.format('%d-%d', gen, first + i - 1), 'd', ARGV[D + i])
  end
  last = first + n - 1
end
local at = D + n
for i = 1, nPut do
  -- A slot at or below the snapshot is already garbage.
  if tonumber(ARGV[at + 2 * i - 1]) > base then redis.call('HSET', slots, ARGV[at + 2 * i - 1], ARGV[at + 2 * i]) end
end
at = at + 2 * nPut
for i = 1, nDrop do redis.call('HDEL', slots, ARGV[at + i]) end
return last
`);

/**
 * KEYS: log, snap, slots
 * ARGV: snapIndex, snapData
 * Returns the number of records kept.
 */
export const COMPACT = new LuaScript(`${PRELUDE}
local log, snap, slots = KEYS[1], KEYS[2], KEYS[3]
local s = tonumber(ARGV[1])
local base = tonumber(redis.call('HGET', snap, 'index') or '0')
if s < base then
  return redis.error_reply('SYNOD_CONFLICT compaction to ' .. s .. ' would regress the snapshot at ' .. base)
end
local last = lastIndex(log, base)
if not intact(log, base, last) then return corrupt(base, last) end

local keep = math.max(last - s, 0)
if keep < last - base then redis.call('XTRIM', log, 'MAXLEN', string.format('%d', keep)) end
redis.call('HSET', snap, 'index', ARGV[1], 'data', ARGV[2])
dropSlotsUpTo(slots, s)
return keep
`);
