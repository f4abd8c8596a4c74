/**
 * Fills BullMQ's Redis with finished jobs as BullMQ keeps them (removeOnComplete false, its
 * default), for the scale and prune scenarios: copies of a job BullMQ itself completed (the
 * template: every field of its hash), each under a fresh id from the queue's own id counter, with
 * its own data and times, 90% in the `completed` sorted set and 10% in `failed` (score: finishedOn),
 * written by a Lua script 10,000 at a time (no million runs).
 */
import { Redis } from 'ioredis';

const FILL = `
local prefix = KEYS[1]
local first, n, fromMs, stepMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local fields = cjson.decode(ARGV[5])
for k = 0, n - 1 do
  local id = first + k
  local ms = fromMs + k * stepMs
  local key = prefix .. id
  local args = {}
  for name, value in pairs(fields) do
    args[#args + 1] = name
    if name == 'data' then value = '{"i":' .. id .. '}'
    elseif name == 'timestamp' then value = tostring(ms)
    elseif name == 'processedOn' then value = tostring(ms + 3)
    elseif name == 'finishedOn' then value = tostring(ms + 20) end
    args[#args + 1] = value
  end
  redis.call('HSET', key, unpack(args))
  local failed = (id % 50) >= 45
  if failed then redis.call('HSET', key, 'failedReason', 'bench failure') end
  redis.call('ZADD', prefix .. (failed and 'failed' or 'completed'), ms + 20, id)
end
return n`;

/**
 * `count` finished jobs in `queue` (a BullMQ `Queue`; `connection`: its Redis), times spread over
 * `[fromMs, toMs]`, cloned from the completed job `templateId`. Returns the fill's duration, ms.
 */
export async function fillFinished(queue, connection, { templateId, count, fromMs, toMs }) {
  const t0 = performance.now();
  const client = new Redis(connection);
  const prefix = `${queue.qualifiedName}:`;
  const template = await client.hgetall(prefix + templateId);
  if (!template?.name) throw new Error(`fill: BullMQ template job ${templateId} not found`);
  const stepMs = Math.max(1, Math.floor((toMs - fromMs) / count));
  const fields = JSON.stringify(template);
  for (let done = 0; done < count; done += 10_000) {
    const n = Math.min(10_000, count - done);
    const last = await client.incrby(`${prefix}id`, n); // the ids BullMQ would have handed out
    await client.eval(FILL, 1, prefix, last - n + 1, n, fromMs + done * stepMs, stepMs, fields);
  }
  await client.quit();
  return performance.now() - t0;
}
