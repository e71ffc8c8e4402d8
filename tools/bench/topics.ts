import { SynodClient } from '@app/client';
import { percentile, runLoad, summarize } from './http-load';

/**
 * The topics phase of `npm run bench`: `connections` producers (raw keep-alive HTTP, as the KV
 * phases) publish to one topic for `seconds` while `consumers` loops of the SDK (fetch with a long
 * poll, ack) drain it in one consumer group. Each message carries its send time, so a consumer
 * gives its end-to-end latency (publish sent → fetched); the consumers then drain what is left.
 * 1000 keys: per-key order holds, as for a real workload.
 */
export async function benchTopics(who: string, base: string, connections: number, seconds: number, consumers = 8): Promise<string[]> {
  const port = Number(new URL(base).port);
  const topic = `bench.topic.${Date.now()}`;
  const path = `/v1/topics/${encodeURIComponent(topic)}/messages`;
  const publish = (c: number, s: number): Buffer => {
    const body = JSON.stringify({ key: `k${(c * 7919 + s) % 1000}`, value: String(Date.now()) });
    return Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  };
  const client = new SynodClient({ endpoints: [base], clientId: `bench-consumer-${process.pid}` });
  const e2e: number[] = [];
  let consumed = 0;
  let producing = true;
  const consumer = async (i: number): Promise<void> => {
    for (;;) {
      const batch = await client.topics.fetch(topic, { group: 'bench', max: 100, waitMs: 1000, consumer: `c${i}` }).catch(() => []);
      const now = Date.now();
      for (const m of batch) e2e.push(now - Number(m.value));
      consumed += batch.length;
      if (batch.length > 0)
        await client.topics
          .ack(
            topic,
            'bench',
            batch.map((m) => m.id),
          )
          .catch(() => undefined);
      else if (!producing) return;
    }
  };
  const t0 = Date.now();
  const loops = Array.from({ length: consumers }, (_, i) => consumer(i));
  const produced = await runLoad(port, connections, seconds, publish, `${who} topic publish, ${connections} connections`);
  producing = false;
  const consumedWhileProducing = consumed;
  await Promise.all(loops);
  const drainSeconds = (Date.now() - t0) / 1000;
  const l = e2e.sort((a, b) => a - b);
  return [
    `${who} ${summarize(`topic publish, ${connections} connections`, produced)}`,
    `${who} topic consume, ${consumers} consumers (fetch ≤100 + ack): ${(consumedWhileProducing / produced.seconds).toFixed(0)} msg/s while producing, ` +
      `${consumed} in ${drainSeconds.toFixed(1)} s to drain (${(consumed / drainSeconds).toFixed(0)} msg/s); ` +
      `end-to-end (publish sent → fetched) p50 ${percentile(l, 50).toFixed(0)} ms, p99 ${percentile(l, 99).toFixed(0)} ms`,
  ];
}
