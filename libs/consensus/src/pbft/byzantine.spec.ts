import { withMutants } from '../mutants';
import { kitFor, type Kit } from './adversary/kit';
import { Knowledge } from './adversary/knowledge';
import { lieInStatus, STATUS_LIES } from './adversary/liar';
import { forgeNewView, NEW_VIEW_LIES, type NewViewLie } from './adversary/new-view';
import { CERTIFICATE_LIES, forgeViewChange, VIEW_CHANGE_LIES } from './adversary/proofs';
import { slowVictimStrategy } from './adversary/slow-victim';
import { otherValidNewView, otherValidViewChange } from './adversary/view-change';
import { BYZANTINE_BEHAVIORS, PROTOCOL_ATTACKS, type ByzantineBehavior } from './byzantine';
import { validViewChange, type CertificateContext } from './certificates';
import { signingPayload } from './codec';
import { quorums } from './quorum';
import { PbftHarness } from './testing/harness';
import type { Checkpoint, NewView, PbftMessage, PrePrepare, Status, ViewChange } from './types';

const correct = ['r1', 'r2', 'r3'];

/** Runs `count` requests from two clients against a cluster with one Byzantine replica; the client retries at every replica. */
function run(behavior: ByzantineBehavior, byz: string, count = 6): PbftHarness {
  const h = new PbftHarness({ clients: ['alice', 'bob'], byzantine: { [byz]: behavior }, requestTimeoutTicks: 15, maxBatch: 2 });
  const ids = h.ids;
  const reqs = Array.from({ length: count }, (_, i) => h.request(i % 2 === 0 ? 'alice' : 'bob', `${behavior}-${i}`, 'x', 1));
  for (const r of reqs) h.propose('r0', r);
  h.deliver();
  h.tick(3);
  for (const r of reqs) for (const id of ids) h.propose(id, r);
  for (let i = 0; i < 400; i++) {
    const live = ids.filter((id) => id !== byz);
    if (live.every((id) => h.apps.get(id)!.value('x') === count)) break;
    h.tick();
  }
  return h;
}

describe('PBFT with one Byzantine replica (f=1)', () => {
  for (const behavior of BYZANTINE_BEHAVIORS) {
    for (const byz of ['r0', 'r2']) {
      it(`${behavior} at ${byz === 'r0' ? 'the primary' : 'a backup'}: correct replicas agree and finish`, () => {
        const h = run(behavior, byz);
        const live = h.ids.filter((id) => id !== byz);
        for (const id of live) {
          expect(h.apps.get(id)!.value('x')).toBe(6);
          expect(h.apps.get(id)!.doubleApplied()).toEqual([]);
        }
        // Same batch at every sequence number on every correct replica.
        const ref = h.executedDigests(live[0]);
        for (const id of live.slice(1)) {
          for (const [seq, d] of h.executedDigests(id)) if (ref.has(seq)) expect(d).toBe(ref.get(seq));
        }
        expect(h.apps.get(live[1])!.digest()).toBe(h.apps.get(live[0])!.digest());
      });
    }
  }

  it("an equivocating primary's own prepares are refused (only backups prepare)", () => {
    const h = run('equivocate', 'r0');
    const dropped = correct.map((id) => h.replica(id).status().dropped);
    expect(dropped.some((d) => (d['prepare-from-primary'] ?? 0) > 0)).toBe(true);
  });

  it('forged messages are counted as bad signatures', () => {
    const h = run('forge', 'r2');
    expect(h.replica('r1').status().dropped['bad-signature']).toBeGreaterThan(0);
  });

  it('canary: with the weak (> n/3) quorum an equivocating primary splits correct replicas', () => {
    const h = new PbftHarness({ clients: ['alice'], byzantine: { r0: 'equivocate' }, faults: { weakQuorum: true } });
    h.propose('r0', h.request('alice', 'w1', 'x', 1));
    h.propose('r0', h.request('alice', 'w2', 'x', 2));
    h.deliver();
    const d1 = h.executedDigests('r1').get(1);
    const d3 = h.executedDigests('r3').get(1);
    expect(d1).toBeDefined();
    expect(d3).toBeDefined();
    expect(d1).not.toBe(d3);
  });
});

// ------------------------------------------------------------------ protocol attacks (pbft/adversary)

/** A seeded generator for a hand-made Byzantine context. */
function seeded(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

/**
 * Three requests commit in view 0 (seqs 1-3, one per batch); the primary r0 crashes with a fourth
 * pending, and the backups move to view 1, whose primary r1 sends its NEW-VIEW — which nobody
 * receives (held back), so r2 and r3 wait in view 1 for one. What r1 saw is r1's knowledge.
 */
function viewChangeScenario(): { h: PbftHarness; nv: NewView; vc: ViewChange; kit: Kit; know: Knowledge } {
  const h = new PbftHarness({ clients: ['alice'], requestTimeoutTicks: 10, maxBatch: 1 });
  for (let i = 0; i < 3; i++) {
    h.propose('r0', h.request('alice', `a${i}`, 'x', 1));
    h.deliver();
  }
  h.crash('r0');
  h.filter = (m) => m.msg.type !== 'NewView';
  const late = h.request('alice', 'a3', 'x', 1);
  for (const id of ['r1', 'r2', 'r3']) h.propose(id, late);
  let nv: NewView | undefined;
  for (let i = 0; i < 200 && nv === undefined; i++) {
    h.tick();
    nv = h.sent.find((m) => m.from === 'r1' && m.msg.type === 'NewView')?.msg as NewView | undefined;
  }
  if (nv === undefined) throw new Error('no NEW-VIEW');
  const crypto = h.keyring.cryptoFor('r1');
  const kit = kitFor({ id: 'r1', replicas: h.ids, sign: (p) => crypto.sign(p), random: seeded(7) });
  const know = new Knowledge(kit, 4, 8);
  for (const s of h.sent) if (s.from === 'r1' || s.to === 'r1') know.see(s.msg);
  const vc = nv.viewChanges.find((x) => x.from === 'r1')!;
  return { h, nv, vc, kit, know };
}

/** What a correct replica (r2) checks a VIEW-CHANGE with. */
function certificateContext(h: PbftHarness): CertificateContext {
  const crypto = h.keyring.cryptoFor('r2');
  return {
    q: quorums(4),
    checkpointInterval: 4,
    logWindow: 8,
    isMember: (id) => h.ids.includes(id),
    primaryOf: (v) => h.ids[v % 4],
    verify: (m) => crypto.verify(m.from, signingPayload(m), m.sig),
  };
}

/** The rule each lie is aimed at: with that rule switched off (a mutant), the lie goes through. */
const VIEW_CHANGE_LIE_TARGETS: Record<string, string> = {
  'fake-prepares': 'pbft.view-change.skip-prepared-proof',
  'foreign-digest': 'pbft.view-change.skip-prepared-proof',
  padded: 'pbft.view-change.skip-prepared-proof',
  'future-view': 'pbft.view-change.skip-prepared-proof',
  'duplicate-seq': 'pbft.view-change.skip-prepared-proof',
  'fake-checkpoint': 'pbft.view-change.skip-checkpoint-proof',
  'wrong-checkpoint-digest': 'pbft.view-change.skip-checkpoint-proof',
  'wrong-checkpoint-seq': 'pbft.view-change.skip-checkpoint-proof',
  'padded-checkpoint': 'pbft.view-change.skip-checkpoint-proof',
};

const NEW_VIEW_LIE_TARGETS: Record<NewViewLie, string[]> = {
  reassign: ['pbft.new-view.skip-recompute'],
  skip: ['pbft.new-view.skip-recompute'],
  extend: ['pbft.new-view.skip-recompute'],
  'small-v': ['pbft.new-view.skip-quorum'],
  'duplicate-v': ['pbft.new-view.skip-quorum'],
  'tampered-v': ['pbft.new-view.skip-view-change-signatures'],
  'forged-v': ['pbft.view-change.skip-prepared-proof', 'pbft.view-change.skip-checkpoint-proof'],
};

describe('PBFT protocol attacks', () => {
  describe('forged VIEW-CHANGE proofs', () => {
    const s = viewChangeScenario();
    const ctx = certificateContext(s.h);
    const committed = new Map(s.nv.prePrepares.map((pp) => [pp.seq, pp.digest]));

    it('the genuine VIEW-CHANGE is valid and proves seqs 1-3 (the control)', () => {
      expect(validViewChange(ctx, s.vc)).toBe(true);
      expect(s.vc.prepared.map((c) => c.prePrepare.seq)).toEqual([1, 2, 3]);
    });

    for (const lie of VIEW_CHANGE_LIES) {
      it(`${lie}: refused by a correct replica, taken once ${VIEW_CHANGE_LIE_TARGETS[lie]} is off`, () => {
        const forged = forgeViewChange(s.kit, s.know, s.vc, lie);
        // Signed with r1's own key: the envelope is valid, the proof inside is not.
        expect(ctx.verify(forged)).toBe(true);
        expect(validViewChange(ctx, forged)).toBe(false);
        expect(withMutants([VIEW_CHANGE_LIE_TARGETS[lie]], () => validViewChange(ctx, forged))).toBe(true);
        if ((CERTIFICATE_LIES as readonly string[]).includes(lie)) {
          // The lie is about what committed: other batches at the committed seqs, from the highest view below the new one.
          const claims = forged.prepared.filter((c) => committed.has(c.prePrepare.seq) && c.prePrepare.digest !== committed.get(c.prePrepare.seq));
          expect(claims.length).toBeGreaterThan(0);
          for (const c of claims) expect(c.prePrepare.view).toBe(lie === 'future-view' ? 1 : 0);
        } else expect(forged.stableSeq !== s.vc.stableSeq || forged.checkpointProof !== s.vc.checkpointProof).toBe(true);
      });
    }
  });

  describe('forged NEW-VIEWs', () => {
    for (const lie of NEW_VIEW_LIES) {
      it(`${lie}: refused by a correct backup, taken once ${NEW_VIEW_LIE_TARGETS[lie].join(' and ')} is off`, () => {
        const s = viewChangeScenario();
        const forged = forgeNewView(s.kit, s.know, s.nv, lie);
        expect(forged).not.toEqual(s.nv);
        const r2 = s.h.replica('r2');
        expect(r2.status()).toMatchObject({ view: 1, viewChanging: true });
        r2.step(forged);
        expect(r2.status()).toMatchObject({ view: 1, viewChanging: true });
        expect(r2.status().dropped['bad-new-view']).toBe(1);
        withMutants(NEW_VIEW_LIE_TARGETS[lie], () => r2.step(forged));
        expect(r2.status()).toMatchObject({ view: 1, viewChanging: false });
      });
    }

    it('the genuine NEW-VIEW is taken (the control)', () => {
      const s = viewChangeScenario();
      s.h.replica('r2').step(s.nv);
      expect(s.h.replica('r2').status()).toMatchObject({ view: 1, viewChanging: false });
    });

    it('a forge-new-view primary is replaced and the committed seqs keep their batches', () => {
      const h = new PbftHarness({ clients: ['alice'], requestTimeoutTicks: 10, maxBatch: 1, byzantine: { r1: 'forge-new-view' } });
      for (let i = 0; i < 3; i++) {
        h.propose('r0', h.request('alice', `a${i}`, 'x', 1));
        h.deliver();
      }
      const before = h.executedDigests('r2');
      h.crash('r0');
      const late = h.request('alice', 'a3', 'x', 1);
      for (const id of ['r1', 'r2', 'r3']) h.propose(id, late);
      for (let i = 0; i < 600 && !['r2', 'r3'].every((id) => h.apps.get(id)!.value('x') === 4); i++) h.tick();
      for (const id of ['r2', 'r3']) {
        expect(h.apps.get(id)!.value('x')).toBe(4);
        expect(h.replica(id).status().view).toBeGreaterThanOrEqual(2);
        for (const [seq, d] of before) expect(h.executedDigests(id).get(seq)).toBe(d);
      }
      expect(h.replica('r2').status().dropped['bad-new-view'] ?? 0).toBeGreaterThan(0);
    });
  });

  describe('equivocation inside the view change', () => {
    it('another valid VIEW-CHANGE and another valid NEW-VIEW: both pass every check', () => {
      const s = viewChangeScenario();
      const ctx = certificateContext(s.h);
      const vc = otherValidViewChange(s.kit, s.know, s.vc);
      expect(validViewChange(ctx, vc)).toBe(true);
      const nv = otherValidNewView(s.kit, s.know, s.nv);
      s.h.replica('r3').step(nv);
      expect(s.h.replica('r3').status()).toMatchObject({ view: 1, viewChanging: false });
    });

    it('an equivocating new primary tells two stories; the correct replicas stay in agreement', () => {
      const h = new PbftHarness({ clients: ['alice'], requestTimeoutTicks: 10, maxBatch: 1, byzantine: { r1: 'equivocate-view-change' }, seed: 3 });
      for (let i = 0; i < 3; i++) {
        h.propose('r0', h.request('alice', `a${i}`, 'x', 1));
        h.deliver();
      }
      h.crash('r0');
      const late = h.request('alice', 'a3', 'x', 1);
      for (const id of ['r1', 'r2', 'r3']) h.propose(id, late);
      for (let i = 0; i < 600 && !['r2', 'r3'].every((id) => h.apps.get(id)!.value('x') === 4); i++) h.tick();
      const stories = new Set(
        h.sent
          .filter((m) => m.from === 'r1' && m.msg.type === 'NewView')
          .map((m) => JSON.stringify((m.msg as NewView).viewChanges.map((vc) => vc.prepared.length))),
      );
      expect(stories.size).toBeGreaterThanOrEqual(1);
      const ref = h.executedDigests('r2');
      for (const [seq, d] of h.executedDigests('r3')) if (ref.has(seq)) expect(d).toBe(ref.get(seq));
      for (const id of ['r2', 'r3']) expect(h.apps.get(id)!.value('x')).toBe(4);
    });
  });

  describe('lying STATUS, CHECKPOINT and state transfer', () => {
    const s = viewChangeScenario();
    const status: Status = s.kit.sign<Status>({
      type: 'Status',
      from: 'r1',
      to: null,
      view: 1,
      active: true,
      stableSeq: 0,
      lastExecuted: 3,
      slots: [],
      sig: new Uint8Array(),
    });

    it('each status lie says something else than the truth, validly signed', () => {
      const ctx = certificateContext(s.h);
      for (const lie of STATUS_LIES) {
        const l = lieInStatus(s.kit, s.know, status, lie);
        expect(ctx.verify(l)).toBe(true);
        expect(l).not.toEqual(status);
      }
      expect(lieInStatus(s.kit, s.know, status, 'ahead').lastExecuted).toBeGreaterThan(3);
    });

    // Regression (found by this adversary): r2 voted a wrong checkpoint digest to r0 and r1 and
    // relayed its genuine vote inside its stable proof to r3. r3 took the checkpoint as stable and
    // fetched its state; r0 and r1 counted r2's first vote only, never had 2f+1, so never held that
    // state either: nobody could serve it, and nobody could move on.
    it('a lagging replica catches up past a liar whose checkpoints differ from the proof it relays', () => {
      const h = new PbftHarness({ clients: ['alice'], checkpointInterval: 2, logWindow: 4, maxBatch: 1, byzantine: { r2: 'lie-status' }, seed: 5 });
      h.crash('r3');
      for (let i = 0; i < 8; i++) {
        h.propose('r0', h.request('alice', `b${i}`, 'x', 1));
        h.deliver();
        h.tick();
      }
      h.restart('r3');
      for (let i = 0; i < 400 && h.apps.get('r3')!.value('x') !== 8; i++) h.tick();
      expect(h.apps.get('r3')!.value('x')).toBe(8);
      expect(h.apps.get('r3')!.digest()).toBe(h.apps.get('r1')!.digest());
      const refused = ['r0', 'r1', 'r3']
        .map((id) => h.replica(id).status().dropped)
        .reduce((n, d) => n + (d['bad-certificate'] ?? 0) + (d['bad-snapshot'] ?? 0), 0);
      expect(refused).toBeGreaterThan(0);
    });
  });

  it('flood: correct replicas drop it by rule and keep their bounds', () => {
    const h = run('flood', 'r2', 8);
    h.tick(40); // a few more status periods of flood on an idle cluster
    for (const id of ['r0', 'r1', 'r3']) {
      const st = h.replica(id).status();
      expect(st.logSize).toBeLessThanOrEqual(8);
      expect(h.apps.get(id)!.value('x')).toBe(8);
    }
    const dropped = ['r0', 'r1', 'r3'].map((id) => h.replica(id).status().dropped);
    const any = (reason: string): number => dropped.reduce((n, d) => n + (d[reason] ?? 0), 0);
    expect(any('out-of-window')).toBeGreaterThan(0);
    expect(any('view-beyond-ceiling')).toBeGreaterThan(0);
    expect(any('bad-view-change')).toBeGreaterThan(0);
  });

  // Regression (found by the flood in the simulator): a peer keeps a bounded number of open
  // checkpoint votes here, its lowest dropped first; a flooder's far-future votes made its genuine
  // vote for the next checkpoint the lowest, dropped on arrival before it was counted, so a replica
  // that needed it for 2f+1 (one that had not executed there itself) never saw the checkpoint stable.
  it("flood: a replica's far-future checkpoint votes do not push out its genuine one before it is counted", () => {
    const h = new PbftHarness({ clients: ['alice'], checkpointInterval: 2, logWindow: 4, maxBatch: 1 });
    h.filter = (m) => m.to !== 'r3';
    for (let i = 0; i < 4; i++) {
      h.propose('r0', h.request('alice', `c${i}`, 'x', 1));
      h.deliver();
    }
    const at4 = (from: string): Checkpoint => h.sent.find((m) => m.from === from && m.msg.type === 'Checkpoint' && m.msg.seq === 4)!.msg as Checkpoint;
    const r0 = h.keyring.cryptoFor('r0');
    const far = [100, 102, 104, 106, 108].map((seq) => {
      const c: Checkpoint = { type: 'Checkpoint', from: 'r0', to: 'r3', seq, digest: 'f'.repeat(64), sig: new Uint8Array() };
      return { ...c, sig: r0.sign(signingPayload(c)) };
    });
    const r3 = h.replica('r3');
    for (const m of [...far, at4('r1'), at4('r2'), at4('r0')]) r3.step(m);
    expect(r3.status().lowWaterMark).toBe(4);
  });

  describe('slow-victim', () => {
    const s = viewChangeScenario();
    const pp: PrePrepare = s.kit.sign<PrePrepare>({
      type: 'PrePrepare',
      from: 'r1',
      to: null,
      view: 1,
      seq: 4,
      digest: 'd',
      requests: [],
      sig: new Uint8Array(),
    });
    const tick: Status = s.kit.sign<Status>({
      type: 'Status',
      from: 'r1',
      to: null,
      view: 1,
      active: true,
      stableSeq: 0,
      lastExecuted: 3,
      slots: [],
      sig: new Uint8Array(),
    });
    const to = (ms: PbftMessage[], type: string, r: string): number => ms.filter((m) => m.type === type && m.to === r).length;

    it('holds what goes to the victim for `delay` status periods, sends the rest at once', () => {
      const f = slowVictimStrategy(s.kit, s.know, 'r3', { delay: 2, starve: false });
      const first = f.messages([pp]);
      expect(to(first, 'PrePrepare', 'r0') + to(first, 'PrePrepare', 'r2')).toBe(2);
      expect(to(first, 'PrePrepare', 'r3')).toBe(0);
      expect(to(f.messages([tick]), 'PrePrepare', 'r3')).toBe(0);
      expect(to(f.messages([tick]), 'PrePrepare', 'r3')).toBe(1);
    });

    it('starving: pre-prepares reach f+1 backups only', () => {
      const f = slowVictimStrategy(s.kit, s.know, 'r3', { delay: 1, starve: true });
      const out = [...f.messages([pp]), ...f.messages([tick]), ...f.messages([tick])];
      expect(out.filter((m) => m.type === 'PrePrepare').map((m) => m.to)).toEqual(['r0', 'r2']);
    });
  });

  it('every protocol attack is deterministic: the same seed, the same messages', () => {
    for (const behavior of PROTOCOL_ATTACKS) {
      const a = run(behavior, 'r0', 4).sent.map(
        (m) => `${m.from}>${m.to}:${JSON.stringify(m.msg, (_k, v) => (v instanceof Uint8Array ? [...v].join('.') : v))}`,
      );
      const b = run(behavior, 'r0', 4).sent.map(
        (m) => `${m.from}>${m.to}:${JSON.stringify(m.msg, (_k, v) => (v instanceof Uint8Array ? [...v].join('.') : v))}`,
      );
      expect(b).toEqual(a);
    }
  });
});
