import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { op, SynodClient, SynodCompactedError, SynodError, type WatchEvent } from '@app/client';
import { clusterForSuite, type TestCluster, waitFor } from './support/cluster';

const CLI = join(__dirname, '..', 'dist', 'tools', 'synodctl', 'main.js');

/** The first `n` events (fewer if `ms` pass first: the assertion then shows what is missing), then a break. */
async function take(events: AsyncIterableIterator<WatchEvent>, n: number, ms = 30_000): Promise<WatchEvent[]> {
  const got: WatchEvent[] = [];
  const timer = setTimeout(() => void events.return?.(), ms);
  try {
    for await (const e of events) if (got.push(e) >= n) break;
  } finally {
    clearTimeout(timer);
  }
  return got;
}

const line = (e: { revision: number; key: string; value: string | null }): string => `${e.revision} ${e.key}=${e.value}`;

/**
 * The SDK's and synodctl's coordination calls (libs/client, tools/synodctl) against a real Raft
 * cluster: transactions, reads in the past, watches (also through a SIGKILLed gateway), and, last
 * because it forgets history the other tests read, compaction.
 */
describe('SDK and synodctl: txn, reads in the past, watch, compaction', () => {
  const cluster = clusterForSuite(['--protocol', 'raft', '--gateway-env', 'WATCH_PROGRESS_MS=1000']);
  let c: TestCluster;
  let client: SynodClient;

  beforeAll(() => {
    c = cluster();
    // The first endpoint answers nothing (port 1): every call and every watch must fail over.
    client = new SynodClient({ endpoints: ['http://127.0.0.1:1', c.url], clientId: `coord-${process.pid}` });
  });

  const ctl = (args: string[], input?: string) => {
    const r = spawnSync(process.execPath, [CLI, '--endpoints', `http://127.0.0.1:1,${c.url}`, ...args], { encoding: 'utf8', timeout: 60_000, input });
    return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
  };

  it('txn: the compares pick the branch; its ops run in order, each seeing the ones before', async () => {
    const k = 'txn/lock';
    const won = await client.txn().if(k, 'version', '=', 0).then(op.put(k, 'me'), op.get(k)).else(op.get(k)).commit();
    expect(won).toEqual({
      succeeded: true,
      revision: expect.any(Number),
      results: [
        { op: 'put', key: k, revision: won.revision },
        { op: 'get', key: k, item: { key: k, value: 'me', revision: won.revision, createRevision: won.revision, modRevision: won.revision, version: 1 } },
      ],
    });
    const lost = await client.txn().if(k, 'createRevision', '=', 0).then(op.put(k, 'you')).else(op.get(k)).commit();
    expect(lost).toMatchObject({ succeeded: false, results: [{ op: 'get', key: k, item: { value: 'me' } }] });
    expect(await client.get(k)).toMatchObject({ value: 'me', version: 1 });

    // A missing key compares as value null and revisions 0; several writes share the txn's revision.
    const multi = await client
      .txn()
      .if('txn/none', 'value', '=', null)
      .if('txn/none', 'modRevision', '=', 0)
      .if(k, 'modRevision', '=', won.revision)
      .then(op.put('txn/a', '1'), op.put('txn/b', '2'), op.delete(k), op.delete('txn/none'), op.range('txn/', 10))
      .commit();
    expect(multi.succeeded).toBe(true);
    expect(multi.results).toEqual([
      { op: 'put', key: 'txn/a', revision: multi.revision },
      { op: 'put', key: 'txn/b', revision: multi.revision },
      { op: 'delete', key: k, deleted: true, revision: multi.revision },
      expect.objectContaining({ op: 'delete', key: 'txn/none', deleted: false }),
      { op: 'range', prefix: 'txn/', items: [expect.objectContaining({ key: 'txn/a', value: '1' }), expect.objectContaining({ key: 'txn/b', value: '2' })] },
    ]);
    expect(multi.revision).toBeGreaterThan(won.revision);
  }, 60_000);

  it('txn: the same Idempotency-Key gives the first answer again; a bad body is a 400 naming the field', async () => {
    const body = { compare: [], success: [op.put('txn/once', 'x')], failure: [] };
    const first = await client.txnRaw(body, { idempotencyKey: `coord-once-${process.pid}` });
    const again = await client.txnRaw(body, { idempotencyKey: `coord-once-${process.pid}` });
    expect(again).toEqual(first);
    expect(await client.get('txn/once')).toMatchObject({ version: 1 });

    const bad = await client.txnRaw({ compare: [{ key: 'x', target: 'version', op: '=', value: 'one' }], success: [], failure: [] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(SynodError);
    expect(bad).toMatchObject({ status: 400, problem: { field: 'compare[0].value' } });
  }, 60_000);

  it('get at a revision: the key as it was then; null before it existed and after its delete; 400 in the future', async () => {
    const k = 'past/k';
    const v1 = await client.put(k, 'v1');
    const other = await client.put('past/other', 'o'); // a revision at which past/k did not change
    const v2 = await client.put(k, 'v2');
    const del = await client.delete(k);
    expect(await client.get(k, { revision: v1.revision })).toEqual({
      key: k,
      value: 'v1',
      revision: v1.revision,
      createRevision: v1.revision,
      modRevision: v1.revision,
      version: 1,
    });
    expect(await client.get(k, { revision: other.revision })).toMatchObject({ value: 'v1', modRevision: v1.revision });
    expect(await client.get(k, { revision: v2.revision })).toMatchObject({ value: 'v2', version: 2, createRevision: v1.revision, modRevision: v2.revision });
    expect(await client.get(k, { revision: v1.revision - 1 })).toBeNull();
    expect(await client.get(k, { revision: del.revision })).toBeNull();
    expect(await client.get(k, { revision: del.revision - 1, consistency: 'stale' })).toMatchObject({ value: 'v2' });
    const future = await client.get(k, { revision: del.revision + 1_000_000 }).catch((e: unknown) => e);
    expect(future).toBeInstanceOf(SynodError);
    expect(future).not.toBeInstanceOf(SynodCompactedError);
    expect(future).toMatchObject({ status: 400, problem: { field: 'revision' } });
  }, 60_000);

  it('watch from a revision: the history, then live; a txn is one revision; a key watch sees that key only', async () => {
    const a1 = await client.put('wh/a', '1');
    const c1 = await client.put('wh/c', 'x');
    const t = await client.txn().then(op.put('wh/a', '2'), op.put('wh/b', '1'), op.delete('wh/c')).commit();
    const events = await take(client.watch({ prefix: 'wh/' }, { fromRevision: a1.revision }), 5);
    expect(events.slice(0, 2)).toEqual([
      { type: 'put', key: 'wh/a', value: '1', revision: a1.revision },
      { type: 'put', key: 'wh/c', value: 'x', revision: c1.revision },
    ]);
    // The contract says a transaction's changes arrive together with one id, not in which order.
    expect(events.slice(2)).toHaveLength(3);
    expect(events.slice(2)).toEqual(
      expect.arrayContaining([
        { type: 'put', key: 'wh/a', value: '2', revision: t.revision, prevValue: '1' },
        { type: 'put', key: 'wh/b', value: '1', revision: t.revision },
        { type: 'delete', key: 'wh/c', value: null, revision: t.revision, prevValue: 'x' },
      ]),
    );

    // Live, after the history: 'wh/ab' is under the prefix 'wh/a' but is not the key 'wh/a'.
    const progress: number[] = [];
    const keyWatch = client.watch({ key: 'wh/a' }, { fromRevision: a1.revision, onProgress: (r) => progress.push(r) });
    const pending = take(keyWatch, 3);
    await waitFor(async () => progress.some((r) => r >= t.revision), 20_000, 'a progress report past the txn');
    await client.put('wh/ab', 'not this one');
    const a3 = await client.put('wh/a', '3');
    expect((await pending).map(line)).toEqual([`${a1.revision} wh/a=1`, `${t.revision} wh/a=2`, `${a3.revision} wh/a=3`]);
  }, 60_000);

  it('watch from now, through a SIGKILLed gateway: every acknowledged write once, in revision order', async () => {
    const progress: number[] = [];
    const events = client.watch({ prefix: 'wf/' }, { onProgress: (r) => progress.push(r), deadlineMs: 90_000 });
    const seen: WatchEvent[] = [];
    const reading = (async () => {
      for await (const e of events) seen.push(e);
    })();
    await waitFor(async () => progress.length > 0, 20_000, 'the watch to be open');

    // Writes through an SDK client of their own: its retries carry each write across the outage, once.
    const writer = new SynodClient({ endpoints: [c.url], clientId: `coord-writer-${process.pid}`, deadlineMs: 90_000 });
    const acked: Array<{ revision: number; key: string; value: string | null }> = [];
    const writing = (async () => {
      for (let i = 0; i < 60; i++) {
        if (i % 10 === 5) {
          // Two changes at one revision, so that a cut may fall inside a revision.
          const t = await writer
            .txn()
            .then(op.put(`wf/t${i}/a`, `${i}`), op.put(`wf/t${i}/b`, `${i}`))
            .commit();
          acked.push({ revision: t.revision, key: `wf/t${i}/a`, value: `${i}` }, { revision: t.revision, key: `wf/t${i}/b`, value: `${i}` });
        } else {
          const r = await writer.put(`wf/${String(i).padStart(2, '0')}`, `${i}`);
          acked.push({ revision: r.revision, key: r.key, value: r.value });
        }
        await new Promise((r) => setTimeout(r, 30));
      }
    })();

    await waitFor(async () => acked.length >= 15 && seen.length > 0, 30_000, 'some writes seen before the kill');
    const seenBeforeKill = seen.length;
    const oldPid = (await c.http('GET', '/health/live')).body.pid as number;
    expect(Number.isInteger(oldPid) && oldPid > 1).toBe(true);
    process.kill(oldPid, 'SIGKILL');
    await waitFor(
      async () => {
        const pid = (await c.http('GET', '/health/live')).body.pid as number;
        return pid !== oldPid ? pid : null;
      },
      60_000,
      'the gateway restarted by the launcher',
    );
    await writing;
    await waitFor(async () => seen.length >= acked.length, 60_000, `all ${acked.length} writes seen (seen ${seen.length})`);
    await new Promise((r) => setTimeout(r, 1_500)); // time for a duplicate to show, if there were one
    await events.return!();
    await reading;

    const order = (x: { revision: number; key: string }, y: { revision: number; key: string }) => x.revision - y.revision || x.key.localeCompare(y.key);
    expect([...seen].sort(order).map(line)).toEqual([...acked].sort(order).map(line));
    expect(seen.every((e, i) => i === 0 || e.revision >= seen[i - 1].revision)).toBe(true);
    expect(seenBeforeKill).toBeLessThan(seen.length); // the stream did cross the kill
  }, 240_000);

  it('synodctl txn (file or stdin), get --rev, watch --prefix --rev until Ctrl-C', async () => {
    const put = await client.put('ctl/k', 'one');
    await client.put('ctl/k', 'two');
    const body = JSON.stringify({
      compare: [{ key: 'ctl/k', target: 'value', op: '=', value: 'two' }],
      success: [op.put('ctl/k', 'three'), op.get('ctl/k')],
      failure: [op.get('ctl/k')],
    });
    const ok = ctl(['txn', '-'], body);
    expect(ok).toMatchObject({ code: 0, out: expect.stringMatching(/^succeeded \(revision \d+\)\nput ctl\/k \(revision \d+\)\nget ctl\/k = three \(/) });
    const dir = mkdtempSync(join(tmpdir(), 'synodctl-txn-'));
    writeFileSync(join(dir, 'txn.json'), body);
    const failed = ctl(['txn', join(dir, 'txn.json'), '--output', 'json']);
    rmSync(dir, { recursive: true, force: true });
    expect(failed.code).toBe(1); // the value is 'three' now: the failure branch ran
    expect(JSON.parse(failed.out)).toMatchObject({ succeeded: false, results: [{ op: 'get', key: 'ctl/k', item: { value: 'three' } }] });
    expect(ctl(['txn', '-'], '{not json')).toMatchObject({ code: 2, err: expect.stringContaining('not JSON') });
    expect(ctl(['txn', '-'], '{"compare":"x"}')).toMatchObject({ code: 1, err: expect.stringContaining('400') });

    expect(ctl(['get', 'ctl/k', '--rev', String(put.revision)])).toMatchObject({ code: 0, out: expect.stringMatching(/^ctl\/k = one \(.*version 1\)$/) });
    expect(ctl(['get', 'ctl/k', '--rev', String(put.revision - 1)])).toMatchObject({ code: 1, out: `ctl/k: not found at revision ${put.revision - 1}` });

    // watch: the history from --rev as JSON lines, then Ctrl-C: exit 0.
    const child = spawn(process.execPath, [CLI, '--endpoints', `http://127.0.0.1:1,${c.url}`, 'watch', '--prefix', 'ctl/', '--rev', String(put.revision)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor(async () => out.split('\n').filter((l) => l !== '').length >= 3, 30_000, 'three watch lines');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .map((e: WatchEvent) => `${e.type} ${e.value}`),
    ).toEqual(['put one', 'put two', 'put three']);
  }, 90_000);

  // Last: it forgets history the tests above read.
  it('compaction: reads before the point and watches from it or before end in SynodCompactedError; after it they work', async () => {
    const a = await client.put('cmp/a', '1');
    const b = await client.put('cmp/a', '2');
    const compacted = await client.compact(b.revision);
    expect(compacted).toEqual({ compactRevision: b.revision, revision: expect.any(Number) });
    expect(compacted.revision).toBeGreaterThan(b.revision);

    const gone = await client.get('cmp/a', { revision: a.revision }).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(SynodCompactedError);
    expect(gone).toMatchObject({ status: 410, compactRevision: b.revision });
    expect(await client.get('cmp/a', { revision: b.revision })).toMatchObject({ value: '2' });

    const watchGone = await take(client.watch({ prefix: 'cmp/' }, { fromRevision: a.revision }), 1).catch((e: unknown) => e);
    expect(watchGone).toBeInstanceOf(SynodCompactedError);
    expect((watchGone as SynodCompactedError).compactRevision).toBe(b.revision);

    const after = take(client.watch({ prefix: 'cmp/' }, { fromRevision: b.revision + 1 }), 1);
    const a3 = await client.put('cmp/a', '3');
    expect(await after).toEqual([{ type: 'put', key: 'cmp/a', value: '3', revision: a3.revision, prevValue: '2' }]);

    // synodctl: compact, and the 410 of a read before the point (exit 1, compactRevision named).
    expect(ctl(['compact', String(a3.revision)])).toMatchObject({
      code: 0,
      out: expect.stringMatching(new RegExp(`^OK \\(compactRevision ${a3.revision}, revision \\d+\\)$`)),
    });
    const ctlGone = ctl(['get', 'cmp/a', '--rev', String(b.revision)]);
    expect(ctlGone).toMatchObject({ code: 1, err: expect.stringContaining(`410`) });
    expect(ctlGone.err).toContain(`(compactRevision ${a3.revision})`);
    expect(ctl(['compact', 'soon'])).toMatchObject({ code: 2, err: expect.stringContaining('compact takes a revision') });
  }, 60_000);
});
