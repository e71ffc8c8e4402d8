import { signingPayload } from './codec';
import { PbftHarness } from './testing/harness';
import type { StateTransfer } from './types';

function tickUntil(h: PbftHarness, cond: () => boolean, max = 500): void {
  for (let i = 0; i <= max; i++) {
    if (cond()) return;
    h.tick();
  }
  throw new Error('condition not reached');
}

/** r3 is cut off while the others execute `count` requests (past several checkpoints and the window). */
function lagging(count: number): PbftHarness {
  const h = new PbftHarness({ checkpointInterval: 2, logWindow: 4, maxBatch: 1 });
  h.filter = (m) => m.from !== 'r3' && m.to !== 'r3';
  for (let i = 0; i < count; i++) {
    h.propose('r0', h.request('client', `s${i}`, 'x', 1));
    h.deliver();
  }
  for (const id of ['r0', 'r1', 'r2']) expect(h.replica(id).status().lastExecuted).toBe(count);
  expect(h.replica('r3').status().lastExecuted).toBe(0);
  return h;
}

describe('PBFT state transfer', () => {
  it('a replica behind the low water mark fetches the checkpointed state and catches up', () => {
    const h = lagging(11);
    h.filter = null;
    tickUntil(h, () => h.replica('r3').status().lastExecuted === 11);
    expect(h.sent.some((m) => m.to === 'r3' && m.msg.type === 'State')).toBe(true);
    expect(h.apps.get('r3')!.digest()).toBe(h.apps.get('r0')!.digest());
    expect(h.replica('r3').status().stableCheckpoint).toBe(10);
    // The fetched checkpoint is persisted: a restart starts from it.
    expect(h.storage.get('r3')!.load().stableCheckpoint!.seq).toBe(10);
    // And it takes part from here on.
    h.propose('r0', h.request('client', 'next', 'x', 1));
    h.deliver();
    expect(h.replica('r3').status().lastExecuted).toBe(12);
    expect(h.apps.get('r3')!.value('x')).toBe(12);
  });

  it('a replica behind within the window gets the missing committed batches', () => {
    const h = new PbftHarness({ checkpointInterval: 4, logWindow: 8, maxBatch: 1 });
    // r3 misses all commits of seqs 1..3; nothing reaches a checkpoint.
    h.filter = (m) => !(m.msg.type === 'Commit' && m.to === 'r3');
    for (let i = 0; i < 3; i++) h.propose('r0', h.request('client', `m${i}`));
    h.deliver();
    expect(h.replica('r3').status().lastExecuted).toBe(0);
    h.filter = null;
    tickUntil(h, () => h.replica('r3').status().lastExecuted === 3);
    expect(h.apps.get('r3')!.digest()).toBe(h.apps.get('r0')!.digest());
  });

  it('a replica that crashes while fetching keeps its low water mark and fetches again', () => {
    const h = lagging(11);
    h.filter = (m) => !(m.msg.type === 'State' && m.to === 'r3');
    tickUntil(h, () => h.replica('r3').status().lowWaterMark === 10);
    expect(h.replica('r3').status().lastExecuted).toBe(0);
    h.crash('r3');
    h.restart('r3');
    expect(h.replica('r3').status()).toMatchObject({ lowWaterMark: 10, lastExecuted: 0 });
    h.filter = null;
    tickUntil(h, () => h.replica('r3').status().lastExecuted === 11);
    expect(h.apps.get('r3')!.digest()).toBe(h.apps.get('r0')!.digest());
  });

  it('a revived replica with an empty disk catches up through the same path', () => {
    const h = lagging(9);
    h.crash('r3');
    h.restart('r3');
    h.filter = null;
    tickUntil(h, () => h.replica('r3').status().lastExecuted === 9);
    expect(h.apps.get('r3')!.digest()).toBe(h.apps.get('r1')!.digest());
  });

  it('rejects a Byzantine snapshot (the restored digest does not match) and keeps its own state', () => {
    const h = lagging(11);
    // Hold back every genuine State message to r3 and keep one to tamper with.
    h.filter = (m) => !(m.msg.type === 'State' && m.to === 'r3');
    tickUntil(h, () => h.sent.some((m) => m.msg.type === 'State' && m.to === 'r3'));
    const genuine = h.sent.find((m) => m.msg.type === 'State' && m.to === 'r3')!.msg as StateTransfer;
    const before = h.apps.get('r3')!.digest();

    // The sender (now playing Byzantine) signs a state whose snapshot has been altered.
    const tampered = { ...genuine, snapshot: new TextEncoder().encode(new TextDecoder().decode(genuine.snapshot).replace('"x",10', '"x",99')) };
    const signed = { ...tampered, sig: h.keyring.cryptoFor(genuine.from).sign(signingPayload(tampered)) };
    h.replica('r3').step(signed);
    expect(h.replica('r3').status().dropped['bad-snapshot']).toBe(1);
    expect(h.replica('r3').status().lastExecuted).toBe(0);
    expect(h.apps.get('r3')!.digest()).toBe(before);

    // Garbage that does not even decode is rejected the same way.
    const junk = { ...genuine, snapshot: new Uint8Array([1, 2, 3]) };
    h.replica('r3').step({ ...junk, sig: h.keyring.cryptoFor(genuine.from).sign(signingPayload(junk)) });
    expect(h.replica('r3').status().dropped['bad-snapshot']).toBe(2);

    // A proof that is not 2f+1 matching checkpoints is rejected before any restore.
    const thin = { ...genuine, proof: genuine.proof.slice(0, 2) };
    h.replica('r3').step({ ...thin, sig: h.keyring.cryptoFor(genuine.from).sign(signingPayload(thin)) });
    expect(h.replica('r3').status().dropped['bad-certificate']).toBe(1);

    // The genuine state is accepted.
    h.filter = null;
    tickUntil(h, () => h.replica('r3').status().lastExecuted === 11);
    expect(h.apps.get('r3')!.digest()).toBe(h.apps.get('r0')!.digest());
  });

  it('rejects committed batches without a valid commit certificate', () => {
    const h = new PbftHarness({ checkpointInterval: 4, logWindow: 8, maxBatch: 1 });
    h.filter = (m) => !(m.msg.type === 'Commit' && m.to === 'r3') && m.msg.type !== 'Committed';
    h.propose('r0', h.request('client', 'cc'));
    h.deliver();
    h.tick(12);
    const answer = h.sent.find((m) => m.msg.type === 'Committed' && m.to === 'r3');
    expect(answer).toBeDefined();
    const msg = answer!.msg as import('./types').CommittedBatches;
    const bad = { ...msg, certificates: msg.certificates.map((c) => ({ ...c, commits: c.commits.slice(0, 2) })) };
    h.replica('r3').step({ ...bad, sig: h.keyring.cryptoFor(msg.from).sign(signingPayload(bad)) });
    expect(h.replica('r3').status().dropped['bad-certificate']).toBe(1);
    expect(h.replica('r3').status().lastExecuted).toBe(0);
    h.replica('r3').step(msg);
    expect(h.replica('r3').status().lastExecuted).toBe(1);
  });

  it('a replica whose state diverged from the certified checkpoint fetches it and re-executes on the right state (issue 10)', () => {
    const h = new PbftHarness({ checkpointInterval: 2, logWindow: 4, maxBatch: 1 });
    h.propose('r0', h.request('client', 'a', 'x', 1));
    h.deliver();
    // r3's state goes wrong behind the protocol's back (a bug, a bit flip): its next checkpoint differs.
    h.apps.get('r3')!.execute(999, h.request('client', 'corrupt', 'x', 100).op);
    for (let i = 0; i < 5; i++) {
      h.propose('r0', h.request('client', `b${i}`, 'x', 1));
      h.deliver();
    }
    tickUntil(h, () => h.apps.get('r3')!.digest() === h.apps.get('r0')!.digest() && h.replica('r3').status().lastExecuted === 6);
    expect(h.apps.get('r3')!.value('x')).toBe(6);
    expect(h.sent.some((m) => m.to === 'r3' && m.msg.type === 'State')).toBe(true);
    // Its storage follows the certified checkpoint too.
    expect(h.storage.get('r3')!.load().stableCheckpoint!.seq).toBeGreaterThanOrEqual(2);
  });
});
