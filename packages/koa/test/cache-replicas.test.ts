/* Cross-replica invalidation: two processes share Redis; a write or a
 * deletion on one must drop the other's L1 copy (Redis pub/sub). */
import { hit, sleep, uniquePrefix } from './support/redis-http';
import { SHARED_REDIS_URL } from './support/redis-servers';
import { spawnWorker, Worker } from './support/redis-worker';

let a: Worker;
let b: Worker;

beforeAll(async () => {
  const config = { redisUrl: SHARED_REDIS_URL, keyPrefix: uniquePrefix('replicas'), limit: 1000, window: '1m' };
  [a, b] = await Promise.all([spawnWorker(config), spawnWorker(config)]);
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const get = async (w: Worker, key: string) => JSON.parse((await hit(`${w.url}/cache/get?key=${key}`)).body).value;

/** Pub/sub is asynchronous: poll briefly for the expected value. */
async function eventually(w: Worker, key: string, expected: unknown): Promise<unknown> {
  let value: unknown;
  for (let i = 0; i < 20; i++) {
    value = await get(w, key);
    if (value === expected) break;
    await sleep(50);
  }
  return value;
}

test('a deletion on one replica drops the other replica\'s L1 entry', async () => {
  await hit(`${a.url}/cache/set?key=item&value=v1`);
  expect(await get(b, 'item')).toBe('v1'); // b fills its L1 from L2
  await hit(`${a.url}/cache/delete?key=item`);
  // Without the invalidation b would keep answering v1 from its L1 for a minute.
  expect(await eventually(b, 'item', null)).toBeNull();
}, 30_000);

test('a new value written on one replica replaces the other replica\'s L1 copy', async () => {
  await hit(`${a.url}/cache/set?key=other&value=old`);
  expect(await get(b, 'other')).toBe('old');
  await hit(`${a.url}/cache/set?key=other&value=new`);
  expect(await eventually(b, 'other', 'new')).toBe('new');
  expect(await get(a, 'other')).toBe('new');
}, 30_000);
