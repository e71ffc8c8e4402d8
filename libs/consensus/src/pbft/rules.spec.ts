import { batchDigest } from './codec';
import { ClientTable, packState } from './client-table';
import { CounterApp } from './testing/counter-app';
import { killsMutant, signed, signedAs } from './testing/forge';
import { PbftHarness } from './testing/harness';
import type { Commit, FetchState, PrePrepare, StateTransfer, ViewChange } from './types';

/**
 * One test per PBFT rule that neither the simulator's adversary nor the other specs exercise: each
 * sends exactly the message the rule is for, as a Byzantine replica could (its own key, or a
 * forgery under another member's name). See forge.ts for the twice-run pattern.
 */

function tickUntil(h: PbftHarness, cond: () => boolean, max = 500): void {
  for (let i = 0; i <= max; i++) {
    if (cond()) return;
    h.tick();
  }
  throw new Error('condition not reached');
}

describe('PBFT authentication: a message signed with another member’s key is dropped (mutation testing, issue 10)', () => {
  it('forged COMMITs do not commit', () => {
    killsMutant(
      'pbft.commit.skip-signature',
      () => {
        const h = new PbftHarness();
        // r1 hears only its own and the primary's COMMIT: 2 of the 2f+1 = 3.
        h.filter = (m) => !(m.msg.type === 'Commit' && m.to === 'r1' && (m.from === 'r2' || m.from === 'r3'));
        h.propose('r0', h.request('client', 'c'));
        h.deliver();
        const pp = h.sent.find((m) => m.msg.type === 'PrePrepare')!.msg as PrePrepare;
        for (const from of ['r2', 'r3']) {
          h.replica('r1').step(signedAs<Commit>(h, 'r0', { type: 'Commit', from, to: 'r1', view: 0, seq: 1, digest: pp.digest }));
        }
        h.collect('r1');
        return { executed: h.replica('r1').status().lastExecuted, forged: h.replica('r1').status().dropped['bad-signature'] ?? 0 };
      },
      (o) => expect(o).toEqual({ executed: 0, forged: 2 }),
      (o) => expect(o.executed).toBe(1),
    );
  });

  it('forged VIEW-CHANGEs do not make a replica join a view change', () => {
    killsMutant(
      'pbft.view-change.skip-signature',
      () => {
        const h = new PbftHarness();
        // f+1 = 2 replicas "want" view 1, both forged by r3.
        for (const from of ['r1', 'r2']) {
          h.replica('r0').step(signedAs<ViewChange>(h, 'r3', { type: 'ViewChange', from, to: null, view: 1, stableSeq: 0, checkpointProof: [], prepared: [] }));
        }
        return h.replica('r0').status();
      },
      (s) => expect(s).toMatchObject({ view: 0, viewChanging: false }),
      (s) => expect(s.view).toBe(1),
    );
  });

  it('a forged FetchState gets no state sent to the replica it names', () => {
    killsMutant(
      'pbft.auxiliary.skip-signature',
      () => {
        const h = new PbftHarness({ checkpointInterval: 2, logWindow: 4, maxBatch: 1 });
        for (let i = 0; i < 2; i++) h.propose('r0', h.request('client', `f${i}`));
        h.deliver();
        expect(h.replica('r0').status().stableCheckpoint).toBe(2);
        h.replica('r0').step(signedAs<FetchState>(h, 'r1', { type: 'FetchState', from: 'r3', to: 'r0', seq: 2 }));
        const rd = h.collect('r0');
        return (rd?.messages ?? []).filter((m) => m.type === 'State').length;
      },
      (states) => expect(states).toBe(0),
      (states) => expect(states).toBe(1),
    );
  });
});

describe('PBFT normal-case rules (mutation testing, issue 10)', () => {
  it('a second PRE-PREPARE for the same view and sequence number with another batch is not prepared', () => {
    killsMutant(
      'pbft.preprepare.accept-conflicting',
      () => {
        const h = new PbftHarness();
        h.filter = (m) => m.msg.type === 'PrePrepare'; // nothing prepares: only the pre-prepares travel
        h.propose('r0', h.request('client', 'first'));
        h.deliver();
        const other = [h.request('client', 'second')];
        const pp2 = signed<PrePrepare>(h, { type: 'PrePrepare', from: 'r0', to: null, view: 0, seq: 1, digest: batchDigest(other), requests: other });
        h.replica('r1').step(pp2);
        h.collect('r1');
        return {
          prepared: h.sent.filter((m) => m.from === 'r1' && m.msg.type === 'Prepare' && m.msg.digest === pp2.digest).length,
          dropped: h.replica('r1').status().dropped['conflicting-pre-prepare'] ?? 0,
        };
      },
      (o) => expect(o).toEqual({ prepared: 0, dropped: 1 }),
      (o) => expect(o.prepared).toBeGreaterThan(0),
    );
  });

  it('a PRE-PREPARE re-proposing an executed request is refused, so the view change can replace its primary', () => {
    killsMutant(
      'pbft.preprepare.accept-executed-request',
      () => {
        const h = new PbftHarness({ maxBatch: 1 });
        const first = h.request('client', 'old');
        h.propose('r0', first);
        h.deliver();
        const seq = h.replica('r1').status().lastExecuted + 1;
        const pp = signed<PrePrepare>(h, { type: 'PrePrepare', from: 'r0', to: null, view: 0, seq, digest: batchDigest([first]), requests: [first] });
        for (const to of ['r1', 'r2', 'r3']) h.inject('r0', to, pp);
        h.deliver();
        return {
          prepares: h.sent.filter((m) => m.msg.type === 'Prepare' && m.msg.seq === seq).length,
          refused: ['r1', 'r2', 'r3'].map((id) => h.replica(id).status().dropped['stale-request'] ?? 0),
        };
      },
      (o) => expect(o).toEqual({ prepares: 0, refused: [1, 1, 1] }),
      (o) => expect(o.prepares).toBeGreaterThan(0),
    );
  });
});

describe('PBFT state transfer rules (mutation testing, issue 10)', () => {
  /** r3 is cut off while the others execute `count` requests; the first State sent to r3 is held back and returned. */
  function laggingWithState(count: number): { h: PbftHarness; genuine: StateTransfer } {
    const h = new PbftHarness({ checkpointInterval: 2, logWindow: 4, maxBatch: 1 });
    h.filter = (m) => m.from !== 'r3' && m.to !== 'r3';
    for (let i = 0; i < count; i++) {
      h.propose('r0', h.request('client', `s${i}`, 'x', 1));
      h.deliver();
    }
    h.filter = (m) => !(m.msg.type === 'State' && m.to === 'r3');
    tickUntil(h, () => h.sent.some((m) => m.msg.type === 'State' && m.to === 'r3'));
    return { h, genuine: h.sent.find((m) => m.msg.type === 'State' && m.to === 'r3')!.msg as StateTransfer };
  }

  it('a state with a genuine checkpoint proof but another snapshot is refused: it must reproduce the certified digest', () => {
    killsMutant(
      'pbft.state-transfer.skip-digest-check',
      () => {
        const { h, genuine } = laggingWithState(11);
        // A well-formed snapshot (the initial state), under the real checkpoint's proof and digest.
        const other = { ...genuine, snapshot: packState(new CounterApp().snapshot(), new ClientTable()) };
        h.replica('r3').step(signedAs<StateTransfer>(h, genuine.from, other));
        const r3 = h.replica('r3').status();
        return { executed: r3.lastExecuted, refused: r3.dropped['bad-snapshot'] ?? 0, x: h.apps.get('r3')!.value('x') };
      },
      (o) => expect(o).toEqual({ executed: 0, refused: 1, x: 0 }),
      // Installed as the state at seq 10: r3 runs on with a counter that lost ten increments.
      (o) => expect(o).toMatchObject({ refused: 0, x: 1 }),
    );
  });

  it('a state older than the stable checkpoint is not installed (no roll-back)', () => {
    killsMutant(
      'pbft.state-transfer.accept-stale',
      () => {
        const { h, genuine } = laggingWithState(11);
        h.filter = null;
        tickUntil(h, () => h.replica('r3').status().lastExecuted === 11);
        for (let i = 0; i < 2; i++) {
          h.propose('r0', h.request('client', `t${i}`, 'x', 1));
          h.deliver();
        }
        expect(h.replica('r3').status()).toMatchObject({ lastExecuted: 13, lowWaterMark: 12 });
        // The seq-10 state, replayed: genuine and signed, but behind what r3 holds.
        h.replica('r3').step(genuine);
        return { executed: h.replica('r3').status().lastExecuted, x: h.apps.get('r3')!.value('x') };
      },
      (o) => expect(o).toEqual({ executed: 13, x: 13 }),
      (o) => expect(o.executed).toBeLessThan(13),
    );
  });
});
