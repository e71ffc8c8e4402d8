import Redis from 'ioredis';
import { startRedis } from '../../../../test/support/redis-server';
it('starts and stops', async () => {
  const r = await startRedis();
  if (process.env.ADMIN) { const a = new Redis(r.url); await a.ping(); await a.quit(); }
  await r.stop();
  expect(1).toBe(1);
});
