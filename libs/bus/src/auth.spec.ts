import { createHash, createHmac, diffieHellman, hkdfSync } from 'node:crypto';
import { CLIENT_PRINCIPAL, FrameAuth, type FrameAuthOptions, type Opened, REJECT_REASONS } from './auth';
import { channelFor, topicChannel } from './channels';
import { openEnvelope, sealEnvelope } from './envelope';
import { encodeFrame, type FrameHeader, packBody, splitFrame } from './frame';
import { ReplayWindow } from './replay-window';
import { testBusKeys } from './test-keys';

const CLUSTER = 'c1';
const REPLICAS = ['n1', 'n2', 'n3', 'n4'];
const keys = testBusKeys([...REPLICAS, CLIENT_PRINCIPAL]);
const principalOf = (self: string): string => (REPLICAS.includes(self) ? self : CLIENT_PRINCIPAL);

/** Endpoint `self` with its principal's test keys; incarnations are given explicitly where they matter. */
function endpoint(self: string, opts: Partial<FrameAuthOptions> = {}): FrameAuth {
  return new FrameAuth({ cluster: CLUSTER, self, replicas: REPLICAS, keys: keys(principalOf(self)), ...opts });
}

const direct = (to: string): string => channelFor(CLUSTER, to);
const BROADCAST = topicChannel(CLUSTER, 'broadcast');
const BEACONS = topicChannel(CLUSTER, 'beacons');

/** The opened frame, failing the test with the reason when it was refused. */
function accepted(result: ReturnType<FrameAuth['open']>): Opened {
  if (result === null || typeof result === 'string') throw new Error(`expected the frame to be accepted, got ${String(result)}`);
  return result;
}

/** The frame with its header rewritten (the body bytes and the MACs kept). */
function rewrite(frame: Buffer, change: Partial<FrameHeader>): Buffer {
  const split = splitFrame(frame)!;
  return encodeFrame({ ...split.header, ...change }, split.body);
}

const noRejections = { unknownSender: 0, badMac: 0, replayed: 0, staleIncarnation: 0 };

describe('FrameAuth', () => {
  describe('seal / open', () => {
    it('round-trips a body to its audience, with the sender and its incarnation', () => {
      const n1 = endpoint('n1', { incarnation: 1000 });
      const n2 = endpoint('n2');
      const body = { type: 'AppendEntries', term: 3, entries: [{ index: 1, command: Uint8Array.from([1, 2, 3]) }] };
      const opened = accepted(n2.open(direct('n2'), n1.seal(direct('n2'), body, ['n2'])));
      expect(opened.from).toBe('n1');
      expect(opened.inc).toBe(1000);
      expect(opened.body).toEqual({ type: 'AppendEntries', term: 3, entries: [{ index: 1, command: expect.any(Uint8Array) }] });
      expect(Array.from((opened.body as typeof body).entries[0].command)).toEqual([1, 2, 3]);
      expect(n2.rejected).toEqual(noRejections);
    });

    it('a broadcast carries one MAC per principal in its audience and opens for each of them', () => {
      const n1 = endpoint('n1');
      const frame = n1.seal(BROADCAST, { type: 'Prepare', n: 7 }, ['n2', 'n3', 'n4']);
      expect(Object.keys(splitFrame(frame)!.header.macs).sort()).toEqual(['n2', 'n3', 'n4']);
      for (const id of ['n2', 'n3', 'n4']) expect(accepted(endpoint(id).open(BROADCAST, frame)).body).toEqual({ type: 'Prepare', n: 7 });
      // not for the client principal, which was not in the audience
      expect(endpoint('gw-1').open(BROADCAST, frame)).toBe('badMac');
    });

    it('numbers each sealed frame 1, 2, 3, ... within an incarnation, which defaults to the time now', () => {
      const before = Date.now();
      const n1 = endpoint('n1');
      expect(n1.incarnation).toBeGreaterThanOrEqual(before);
      expect(n1.incarnation).toBeLessThanOrEqual(Date.now());
      const seqs = [1, 2, 3].map(() => splitFrame(n1.seal(BROADCAST, 'x', ['n2']))!.header.seq);
      expect(seqs).toEqual([1, 2, 3]);
      expect(splitFrame(n1.sealTo(direct('n2'), 'n2', 'y'))!.header).toMatchObject({ from: 'n1', inc: n1.incarnation, seq: 4, toInc: 0 });
    });

    it('knows which endpoints are replicas and which speak as the one client principal', () => {
      const n1 = endpoint('n1');
      expect(n1.principal).toBe('n1');
      expect(endpoint('gw-1234').principal).toBe(CLIENT_PRINCIPAL);
      expect(n1.principalOf('n4')).toBe('n4');
      expect(n1.principalOf('gw-1234')).toBe(CLIENT_PRINCIPAL);
      expect(n1.principalOf('n9')).toBe(CLIENT_PRINCIPAL); // not a replica of this cluster
    });

    it('refuses to be built without a public key for its own principal', () => {
      const { privateKey, publicKeys } = keys('n1');
      const { n1: _own, ...others } = publicKeys;
      expect(() => new FrameAuth({ cluster: CLUSTER, self: 'n1', replicas: REPLICAS, keys: { privateKey, publicKeys: others } })).toThrow(
        /no public key for n1/,
      );
    });

    it('matches the documented construction: HMAC-SHA256/128 under HKDF of the X25519 secret, over channel, header fields and the SHA-256 of the body', () => {
      const n1 = endpoint('n1', { incarnation: 1234 });
      const channel = direct('n2');
      const frame = n1.seal(channel, { hello: 'n2' }, ['n2'], 99);
      const { header, body } = splitFrame(frame)!;
      const secret = diffieHellman({ privateKey: keys('n2').privateKey, publicKey: keys('n2').publicKeys.n1 });
      const key = Buffer.from(hkdfSync('sha256', secret, `synod-bus:${CLUSTER}`, 'n1|n2', 32));
      const expected = createHmac('sha256', key)
        .update(`${channel}\nn1\n1234\n${header.seq}\n99\n`)
        .update(createHash('sha256').update(body).digest())
        .digest()
        .subarray(0, 16);
      expect(Buffer.from(header.macs.n2).equals(expected)).toBe(true);
    });
  });

  describe('who may speak', () => {
    it('a direct frame opens only for its principal', () => {
      const n1 = endpoint('n1');
      const frame = n1.sealTo(direct('n2'), 'n2', 'for n2 only');
      expect(Object.keys(splitFrame(frame)!.header.macs)).toEqual(['n2']);
      // Another replica, or a gateway, that gets hold of it (on n2's channel) cannot take it.
      for (const other of ['n3', 'n4', 'gw-1']) expect(endpoint(other).open(direct('n2'), frame)).toBe('badMac');
      expect(accepted(endpoint('n2').open(direct('n2'), frame)).body).toBe('for n2 only');
    });

    it("a replica's key cannot speak as another replica: a rewritten sender is a bad MAC", () => {
      const n2 = endpoint('n2');
      const frame = endpoint('n1').seal(BROADCAST, { type: 'Commit', n: 1 }, ['n2', 'n3']);
      for (const from of ['n3', 'n4', 'gw-1', 'n1 ', 'N1']) expect(n2.open(BROADCAST, rewrite(frame, { from }))).toBe('badMac');
      expect(n2.incarnationOf('n3')).toBeUndefined();
      expect(n2.incarnationOf('gw-1')).toBeUndefined();
      // ...and the untouched frame is still good
      expect(accepted(n2.open(BROADCAST, frame)).from).toBe('n1');
    });

    it("a replica's key sealing in another replica's name is a bad MAC", () => {
      // n1's private key, claiming to be n3: its pairwise keys are n1's, not n3's.
      const impostor = new FrameAuth({ cluster: CLUSTER, self: 'n3', replicas: REPLICAS, keys: keys('n1') });
      const n2 = endpoint('n2');
      expect(n2.open(BROADCAST, impostor.seal(BROADCAST, 'I am n3', ['n2']))).toBe('badMac');
      expect(n2.open(direct('n2'), impostor.sealTo(direct('n2'), 'n2', 'I am n3'))).toBe('badMac');
      expect(n2.incarnationOf('n3')).toBeUndefined();
    });

    it('the client key cannot speak as a replica', () => {
      const forger = new FrameAuth({ cluster: CLUSTER, self: 'n1', replicas: REPLICAS, keys: keys(CLIENT_PRINCIPAL) });
      // As 'n1' the forger's own principal is n1, whose public key it has: only its MACs are wrong.
      expect(endpoint('n2').open(BROADCAST, forger.seal(BROADCAST, 'vote for me', ['n2']))).toBe('badMac');
      expect(endpoint('gw-2').open(BEACONS, forger.seal(BEACONS, { t: 'beacon', id: 'n1' }, [CLIENT_PRINCIPAL]))).toBe('badMac');
    });

    it('a frame of another cluster (same keys, other HKDF salt) is a bad MAC', () => {
      const other = new FrameAuth({ cluster: 'c2', self: 'n1', replicas: REPLICAS, keys: keys('n1') });
      expect(endpoint('n2').open(direct('n2'), other.sealTo(direct('n2'), 'n2', 'hi'))).toBe('badMac');
    });

    it('a sender whose principal has no public key here is an unknown sender', () => {
      const { privateKey, publicKeys } = keys('n2');
      const { gateway: _gw, n4: _n4, ...known } = publicKeys;
      const n2 = new FrameAuth({ cluster: CLUSTER, self: 'n2', replicas: REPLICAS, keys: { privateKey, publicKeys: known } });
      expect(n2.open(direct('n2'), endpoint('n4').sealTo(direct('n2'), 'n2', 'x'))).toBe('unknownSender');
      expect(n2.open(direct('n2'), endpoint('gw-1').sealTo(direct('n2'), 'n2', 'x'))).toBe('unknownSender');
      expect(accepted(n2.open(direct('n2'), endpoint('n1').sealTo(direct('n2'), 'n2', 'x'))).from).toBe('n1');
      expect(n2.rejected).toEqual({ ...noRejections, unknownSender: 2 });
    });

    it('a MAC of the wrong length or type is a bad MAC, not an exception', () => {
      const n2 = endpoint('n2');
      const frame = endpoint('n1').sealTo(direct('n2'), 'n2', 'x');
      const good = splitFrame(frame)!.header.macs.n2;
      for (const m of [good.subarray(0, 15), Buffer.concat([good, Buffer.from([0])]), new Uint8Array(0), 'a string', 42, null, [1, 2]]) {
        expect(n2.open(direct('n2'), rewrite(frame, { macs: { n2: m as Uint8Array } }))).toBe('badMac');
      }
      expect(n2.open(direct('n2'), rewrite(frame, { macs: {} }))).toBe('badMac');
      expect(n2.open(direct('n2'), rewrite(frame, { macs: { n3: good } }))).toBe('badMac');
    });
  });

  describe('integrity', () => {
    it('a bit flipped anywhere in header or body is refused (bad MAC or malformed), never accepted', () => {
      const n1 = endpoint('n1');
      const n2 = endpoint('n2');
      n2.open(direct('n2'), n1.sealTo(direct('n2'), 'n2', 'learn'));
      const frame = n1.sealTo(direct('n2'), 'n2', { type: 'AppendEntries', term: 7, entries: [{ index: 1, command: Uint8Array.from([1, 2, 3]) }] });
      const seen = new Set<unknown>();
      for (let i = 0; i < frame.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const bad = Buffer.from(frame);
          bad[i] ^= 1 << bit;
          const r = n2.open(direct('n2'), bad);
          expect({ byte: i, bit, r }).toEqual({ byte: i, bit, r: expect.stringMatching(/^(badMac|malformed)$/) });
          seen.add(r);
        }
      }
      expect(seen).toEqual(new Set(['badMac', 'malformed']));
      // Truncated or extended, likewise.
      for (let n = 0; n < frame.length; n++) expect(n2.open(direct('n2'), frame.subarray(0, n))).toMatch(/^(badMac|malformed)$/);
      expect(n2.open(direct('n2'), Buffer.concat([frame, Buffer.from([0])]))).toMatch(/^(badMac|malformed)$/);
      // None of that cost the real frame its place.
      expect(accepted(n2.open(direct('n2'), frame)).body).toMatchObject({ type: 'AppendEntries', term: 7 });
      expect(n2.rejected.replayed).toBe(0);
    });

    it('a header field changed (sequence number, incarnations) is a bad MAC', () => {
      const n2 = endpoint('n2');
      const frame = endpoint('n1', { incarnation: 5000 }).sealTo(direct('n2'), 'n2', 'x');
      for (const change of [{ seq: 2 }, { inc: 5001 }, { inc: 4999 }, { toInc: n2.incarnation }, { toInc: 1 }]) {
        expect(n2.open(direct('n2'), rewrite(frame, change))).toBe('badMac');
      }
    });

    it('a frame moved to another channel is a bad MAC', () => {
      const n1 = endpoint('n1');
      const n2 = endpoint('n2');
      const toN2 = n1.sealTo(direct('n2'), 'n2', 'direct');
      expect(n2.open(BROADCAST, toN2)).toBe('badMac');
      expect(n2.open(channelFor('c2', 'n2'), toN2)).toBe('badMac');
      const broadcast = n1.seal(BROADCAST, 'topic', ['n2']);
      expect(n2.open(direct('n2'), broadcast)).toBe('badMac');
      expect(n2.open(topicChannel(CLUSTER, 'other'), broadcast)).toBe('badMac');
      expect(accepted(n2.open(direct('n2'), toN2)).body).toBe('direct');
      expect(accepted(n2.open(BROADCAST, broadcast)).body).toBe('topic');
      expect(n2.rejected).toEqual({ ...noRejections, badMac: 4 });
    });

    it('an authentic frame whose body does not decode is malformed (counted apart from the refusals)', () => {
      const n1 = endpoint('n1', { incarnation: 77 });
      const n2 = endpoint('n2');
      const channel = direct('n2');
      // Sealed by hand as n1 would, over bytes that are no MessagePack.
      const body = Buffer.from([0x92, 0x01]);
      const header: FrameHeader = { from: 'n1', inc: 77, seq: 1, toInc: 0, macs: {} };
      const secret = diffieHellman({ privateKey: keys('n1').privateKey, publicKey: keys('n1').publicKeys.n2 });
      const key = Buffer.from(hkdfSync('sha256', secret, `synod-bus:${CLUSTER}`, 'n1|n2', 32));
      header.macs.n2 = createHmac('sha256', key)
        .update(`${channel}\nn1\n77\n1\n0\n`)
        .update(createHash('sha256').update(body).digest())
        .digest()
        .subarray(0, 16);
      expect(n2.open(channel, encodeFrame(header, body))).toBe('malformed');
      expect(n2.rejected).toEqual(noRejections);
      expect(n1.incarnation).toBe(77);
    });

    it('bytes that are no frame are malformed, and never throw', () => {
      const n2 = endpoint('n2');
      for (const buf of [
        Buffer.alloc(0),
        Buffer.from('hello'),
        Buffer.from([1, 0x92, 0xa2, 0x6e, 0x31, 0x01]),
        'str' as unknown as Buffer,
        undefined as unknown as Buffer,
      ]) {
        expect(n2.open(direct('n2'), buf)).toBe('malformed');
      }
      expect(n2.rejected).toEqual(noRejections);
    });
  });

  describe('freshness', () => {
    it('a replay of the same frame is refused', () => {
      const n1 = endpoint('n1');
      const n2 = endpoint('n2');
      const frame = n1.sealTo(direct('n2'), 'n2', { type: 'RequestVote', term: 9 });
      accepted(n2.open(direct('n2'), frame));
      expect(n2.open(direct('n2'), frame)).toBe('replayed');
      expect(n2.open(direct('n2'), Buffer.from(frame))).toBe('replayed');
      // A broadcast is refused the second time by each receiver on its own.
      const b = n1.seal(BROADCAST, 'once', ['n2', 'n3']);
      const n3 = endpoint('n3');
      accepted(n2.open(BROADCAST, b));
      accepted(n3.open(BROADCAST, b));
      expect(n2.open(BROADCAST, b)).toBe('replayed');
      expect(n3.open(BROADCAST, b)).toBe('replayed');
      expect(n2.rejected).toEqual({ ...noRejections, replayed: 3 });
    });

    it('an older incarnation is refused once a newer one was heard, and the newer one starts afresh', () => {
      const old = endpoint('n1', { incarnation: 1000 });
      const restarted = endpoint('n1', { incarnation: 2000 });
      const n2 = endpoint('n2');
      const captured = [1, 2, 3].map((i) => old.seal(BROADCAST, `old ${i}`, ['n2']));
      accepted(n2.open(BROADCAST, captured[0]));
      expect(n2.incarnationOf('n1')).toBe(1000);
      // The restarted sender numbers from 1 again: the new incarnation gets a window of its own.
      expect(accepted(n2.open(BROADCAST, restarted.seal(BROADCAST, 'new 1', ['n2']))).inc).toBe(2000);
      expect(n2.incarnationOf('n1')).toBe(2000);
      expect(n2.open(BROADCAST, captured[1])).toBe('replayed'); // never seen, but of an older incarnation
      expect(n2.open(BROADCAST, captured[2])).toBe('replayed');
      expect(accepted(n2.open(BROADCAST, restarted.seal(BROADCAST, 'new 2', ['n2']))).body).toBe('new 2');
      expect(n2.incarnationOf('n1')).toBe(2000);
    });

    it('frames out of order within the window are accepted once each; one older than the window is refused', () => {
      const n1 = endpoint('n1');
      const n2 = endpoint('n2');
      const frames = Array.from({ length: 20 }, (_, i) => n1.seal(BROADCAST, i, ['n2']));
      // The first frame heard sets the floor (see the next test); the rest come in any order.
      const order = [0, 5, 19, 3, 1, 2, 18, 4, 10, 9, 6, 8, 7, 17, 11, 16, 12, 15, 13, 14];
      for (const i of order) expect(accepted(n2.open(BROADCAST, frames[i])).body).toBe(i);
      for (const i of order) expect(n2.open(BROADCAST, frames[i])).toBe('replayed');

      // seq 21 .. 21+W: hold back the first two, deliver the rest, then the held-back ones.
      const W = ReplayWindow.WINDOW;
      const more = Array.from({ length: W + 1 }, (_, i) => n1.seal(BROADCAST, 21 + i, ['n2']));
      for (const f of more.slice(2)) accepted(n2.open(BROADCAST, f));
      // Highest is now 21+W: seq 22 is W-1 below it (inside), seq 21 is W below it (outside).
      expect(accepted(n2.open(BROADCAST, more[1])).body).toBe(22);
      expect(n2.open(BROADCAST, more[0])).toBe('replayed');
    });

    it('a receiver that meets a sender mid-stream takes nothing below the first frame it heard', () => {
      const n1 = endpoint('n1');
      const captured = [1, 2, 3, 4].map((i) => n1.seal(BROADCAST, `before ${i}`, ['n2']));
      const n2 = endpoint('n2');
      // n2 had these in a previous life (or never): it cannot know, so it takes none of them...
      expect(accepted(n2.open(BROADCAST, n1.seal(BROADCAST, 'first heard', ['n2']))).body).toBe('first heard');
      for (const f of captured) expect(n2.open(BROADCAST, f)).toBe('replayed');
      // ...while what follows the first frame heard may still come out of order.
      const next = [6, 7, 8].map((i) => n1.seal(BROADCAST, i, ['n2']));
      expect(accepted(n2.open(BROADCAST, next[2])).body).toBe(8);
      expect(accepted(n2.open(BROADCAST, next[0])).body).toBe(6);
      expect(accepted(n2.open(BROADCAST, next[1])).body).toBe(7);
      // A new incarnation of the sender sets a new floor: its first frame heard.
      const restarted = endpoint('n1', { incarnation: n1.incarnation + 1 });
      const early = restarted.seal(BROADCAST, 'early', ['n2']);
      accepted(n2.open(BROADCAST, restarted.seal(BROADCAST, 'later', ['n2'])));
      expect(n2.open(BROADCAST, early)).toBe('replayed');
    });

    it('a direct frame naming another incarnation of the receiver is stale; 0 (unknown) is taken unless strict', () => {
      const n1 = endpoint('n1');
      const n2old = endpoint('n2', { incarnation: 1000 });
      const n2 = endpoint('n2', { incarnation: 2000 });
      // Before n1 has heard from n2, its direct frames name no incarnation.
      const unbound = n1.sealTo(direct('n2'), 'n2', 'unbound');
      expect(splitFrame(unbound)!.header.toInc).toBe(0);
      // n1 hears the old n2, and binds its frames to it...
      accepted(n1.open(direct('n1'), n2old.sealTo(direct('n1'), 'n1', 'hello from n2')));
      expect(n1.incarnationOf('n2')).toBe(1000);
      const bound = n1.sealTo(direct('n2'), 'n2', 'for the old n2');
      expect(splitFrame(bound)!.header.toInc).toBe(1000);
      // ...which the restarted n2 refuses, while it takes the unbound one.
      expect(n2.open(direct('n2'), bound)).toBe('staleIncarnation');
      expect(accepted(n2.open(direct('n2'), unbound)).body).toBe('unbound');
      expect(accepted(n2old.open(direct('n2'), bound)).body).toBe('for the old n2');
      // A stale frame does not use up its sequence number: refused for staleness again, not as a replay.
      expect(n2.open(direct('n2'), bound)).toBe('staleIncarnation');
      expect(n2.rejected).toEqual({ ...noRejections, staleIncarnation: 2 });
      // Once n1 hears the new n2, it binds to that one.
      accepted(n1.open(direct('n1'), n2.sealTo(direct('n1'), 'n1', 'back')));
      expect(accepted(n2.open(direct('n2'), n1.sealTo(direct('n2'), 'n2', 'rebound'))).body).toBe('rebound');
      // An explicit toInc to seal() works the same.
      expect(n2.open(direct('n2'), n1.seal(direct('n2'), 'x', ['n2'], 1999))).toBe('staleIncarnation');
    });

    it('strict open requires toInc === this incarnation', () => {
      const gw = endpoint('gw-1');
      const n1 = endpoint('n1', { incarnation: 3000 });
      const ch = 'synod.c1.control.n1';
      expect(n1.open(ch, gw.seal(ch, 'unbound', ['n1']), { strict: true })).toBe('staleIncarnation');
      expect(n1.open(ch, gw.seal(ch, 'other', ['n1'], 2999), { strict: true })).toBe('staleIncarnation');
      expect(accepted(n1.open(ch, gw.seal(ch, 'bound', ['n1'], 3000), { strict: true })).body).toBe('bound');
      // not strict: 0 goes
      expect(accepted(n1.open(ch, gw.seal(ch, 'unbound', ['n1']))).body).toBe('unbound');
    });

    it('ignoreFrom skips our own frame unchecked, and only ours', () => {
      const n1 = endpoint('n1');
      const own = n1.seal(BROADCAST, 'mine', ['n2']); // not even in its audience
      expect(n1.open(BROADCAST, own, { ignoreFrom: 'n1' })).toBeNull();
      expect(n1.open(BROADCAST, endpoint('n2').seal(BROADCAST, 'yours', ['n1']), { ignoreFrom: 'n1' })).toMatchObject({ from: 'n2', body: 'yours' });
      expect(n1.open(BROADCAST, own)).toBe('badMac');
      expect(n1.rejected).toEqual({ ...noRejections, badMac: 1 });
    });

    it('incarnationOf is set by accepted frames only', () => {
      const n2 = endpoint('n2');
      expect(n2.incarnationOf('n1')).toBeUndefined();
      const n1 = endpoint('n1', { incarnation: 4242 });
      const frame = n1.seal(BEACONS, 'b', ['n2']);
      n2.open(BEACONS, rewrite(frame, { inc: 9999 })); // forged: a bad MAC
      n2.open(BROADCAST, frame); // moved: a bad MAC
      expect(n2.incarnationOf('n1')).toBeUndefined();
      accepted(n2.open(BEACONS, frame));
      expect(n2.incarnationOf('n1')).toBe(4242);
    });
  });

  describe('the client principal', () => {
    it("a frame sealed for 'gateway' by n1 is taken by two different gateway endpoints, but not by n2", () => {
      const n1 = endpoint('n1');
      const gwA = endpoint('gw-a');
      const gwB = endpoint('gw-b');
      const beacon = n1.seal(BEACONS, { t: 'beacon', id: 'n1' }, [CLIENT_PRINCIPAL]);
      expect(accepted(gwA.open(BEACONS, beacon)).body).toEqual({ t: 'beacon', id: 'n1' });
      expect(accepted(gwB.open(BEACONS, beacon)).body).toEqual({ t: 'beacon', id: 'n1' });
      expect(endpoint('n2').open(BEACONS, beacon)).toBe('badMac');
      // each endpoint keeps its own replay state
      expect(gwA.open(BEACONS, beacon)).toBe('replayed');
      expect(gwB.open(BEACONS, beacon)).toBe('replayed');
      expect(gwA.incarnationOf('n1')).toBe(n1.incarnation);
      expect(gwB.incarnationOf('n1')).toBe(n1.incarnation);
    });

    it("a reply to one gateway is bound to that gateway's channel", () => {
      const n1 = endpoint('n1');
      const reply = n1.sealTo(direct('gw-a'), 'gw-a', { t: 'result', corr: 'c1' });
      expect(endpoint('gw-b').open(direct('gw-b'), reply)).toBe('badMac');
      expect(accepted(endpoint('gw-a').open(direct('gw-a'), reply)).body).toEqual({ t: 'result', corr: 'c1' });
    });

    it('gateway endpoints reach replicas, each with a sequence of its own', () => {
      const n1 = endpoint('n1');
      const gwA = endpoint('gw-a', { incarnation: 10 });
      const gwB = endpoint('gw-b', { incarnation: 10 });
      // Same incarnation, same sequence numbers: still two senders, two windows.
      expect(accepted(n1.open(direct('n1'), gwA.sealTo(direct('n1'), 'n1', 'a'))).from).toBe('gw-a');
      expect(accepted(n1.open(direct('n1'), gwB.sealTo(direct('n1'), 'n1', 'b'))).from).toBe('gw-b');
    });
  });

  describe('verify: false (the canary setting)', () => {
    it('accepts a forged, unauthenticated or replayed frame that the verifying endpoint refuses', () => {
      const canary = endpoint('n2', { verify: false });
      const strict = endpoint('n2');
      expect(canary.verify).toBe(false);
      expect(strict.verify).toBe(true);
      const unsigned = encodeFrame({ from: 'n1', inc: 1, seq: 1, toInc: 0, macs: {} }, packBody({ type: 'RequestVote', term: 99 }));
      expect(strict.open(BROADCAST, unsigned)).toBe('badMac');
      expect(canary.open(BROADCAST, unsigned)).toEqual({ from: 'n1', inc: 1, body: { type: 'RequestVote', term: 99 } });
      expect(canary.open(BROADCAST, unsigned)).toMatchObject({ from: 'n1' }); // no replay check either
      expect(canary.incarnationOf('n1')).toBe(1); // though incarnations are still learnt
      const forged = rewrite(endpoint('n3').seal(BROADCAST, 'x', ['n2']), { from: 'n1' });
      expect(strict.open(BROADCAST, forged)).toBe('badMac');
      expect(canary.open(BROADCAST, forged)).toMatchObject({ from: 'n1', body: 'x' });
      expect(canary.open(direct('n2'), endpoint('n1').seal(direct('n2'), 'stale', ['n2'], 12345), { strict: true })).toMatchObject({ body: 'stale' });
      expect(canary.rejected).toEqual(noRejections);
      // garbage is still garbage
      expect(canary.open(BROADCAST, Buffer.from('hello'))).toBe('malformed');
    });

    it('still seals real MACs, so verifying peers take its frames', () => {
      const canary = endpoint('n1', { verify: false });
      expect(accepted(endpoint('n2').open(direct('n2'), canary.sealTo(direct('n2'), 'n2', 'hi'))).body).toBe('hi');
    });
  });

  it('counts each refusal by its reason, and nothing for accepted or malformed frames', () => {
    expect([...REJECT_REASONS]).toEqual(['unknownSender', 'badMac', 'replayed', 'staleIncarnation']);
    const { privateKey, publicKeys } = keys('n2');
    const { n4: _n4, ...known } = publicKeys;
    const n2 = new FrameAuth({ cluster: CLUSTER, self: 'n2', replicas: REPLICAS, keys: { privateKey, publicKeys: known }, incarnation: 500 });
    const n1 = endpoint('n1');
    const ok = n1.seal(BROADCAST, 1, ['n2']);
    accepted(n2.open(BROADCAST, ok));
    n2.open(BROADCAST, ok); // replayed
    n2.open(BROADCAST, ok); // replayed
    n2.open(BROADCAST, rewrite(n1.seal(BROADCAST, 2, ['n2']), { seq: 1000 })); // badMac
    n2.open(direct('n2'), endpoint('n4').sealTo(direct('n2'), 'n2', 3)); // unknownSender
    n2.open(direct('n2'), n1.seal(direct('n2'), 4, ['n2'], 499)); // staleIncarnation
    n2.open(direct('n2'), Buffer.from('junk')); // malformed: not a refusal
    expect(n2.rejected).toEqual({ unknownSender: 1, badMac: 1, replayed: 2, staleIncarnation: 1 });
  });
});

describe('sealEnvelope / openEnvelope', () => {
  const PATTERN = 'synod.c1.control.n1';

  it('carries a sealed body as base64 in JSON, strictly bound to the receiver incarnation', () => {
    const gw = endpoint('gw-1');
    const n1 = endpoint('n1', { incarnation: 7000 });
    // Before the gateway heard n1, a command names no incarnation: refused (strict).
    expect(openEnvelope(n1, PATTERN, sealEnvelope(gw, PATTERN, 'n1', { corr: 'a' }))).toBe('staleIncarnation');
    accepted(gw.open(BEACONS, n1.seal(BEACONS, { t: 'beacon' }, [CLIENT_PRINCIPAL])));
    const env = sealEnvelope(gw, PATTERN, 'n1', { corr: 'b', req: { action: 'kill' } });
    expect(Object.keys(env)).toEqual(['frame']);
    const wire = JSON.parse(JSON.stringify(env)) as unknown; // what the Nest Redis transport does to it
    expect(accepted(openEnvelope(n1, PATTERN, wire))).toMatchObject({ from: 'gw-1', body: { corr: 'b', req: { action: 'kill' } } });
    // the same command again is a replay
    expect(openEnvelope(n1, PATTERN, wire)).toBe('replayed');
    // the answer comes back sealed for the gateway, on the reply pattern
    const answer = sealEnvelope(n1, `${PATTERN}.reply`, 'gw-1', { corr: 'b', status: { id: 'n1' } });
    expect(openEnvelope(gw, PATTERN, answer)).toBe('badMac');
    expect(accepted(openEnvelope(gw, `${PATTERN}.reply`, answer)).body).toEqual({ corr: 'b', status: { id: 'n1' } });
  });

  it('a command for a replica before it restarted is refused by the restarted one', () => {
    const gw = endpoint('gw-1');
    const before = endpoint('n1', { incarnation: 1 });
    const after = endpoint('n1', { incarnation: 2 });
    accepted(gw.open(BEACONS, before.seal(BEACONS, 'b', [CLIENT_PRINCIPAL])));
    const captured = sealEnvelope(gw, PATTERN, 'n1', { corr: 'x' });
    expect(openEnvelope(after, PATTERN, captured)).toBe('staleIncarnation');
  });

  it('anything but an envelope is malformed', () => {
    const n1 = endpoint('n1');
    for (const msg of [
      null,
      undefined,
      'frame',
      42,
      {},
      { frame: 42 },
      { frame: null },
      { frame: '' },
      { frame: '!!!not base64!!!' },
      { frame: Buffer.from('junk').toString('base64') },
    ]) {
      expect(openEnvelope(n1, PATTERN, msg)).toBe('malformed');
    }
    expect(n1.rejected).toEqual(noRejections);
  });
});

describe('ReplayWindow', () => {
  const W = ReplayWindow.WINDOW;

  it('accepts each sequence number once', () => {
    const w = new ReplayWindow();
    expect(w.accept(1)).toBe(true);
    expect(w.accept(1)).toBe(false);
    expect(w.accept(2)).toBe(true);
    expect(w.accept(2)).toBe(false);
    expect(w.accept(1)).toBe(false);
  });

  it('accepts gaps and fills them in later, within the window', () => {
    const w = new ReplayWindow();
    expect(w.accept(10)).toBe(true);
    expect(w.accept(5)).toBe(true);
    expect(w.accept(7)).toBe(true);
    expect(w.accept(5)).toBe(false);
    expect(w.accept(6)).toBe(true);
    expect(w.accept(10)).toBe(false);
    expect(w.accept(11)).toBe(true);
  });

  it('refuses what lies WINDOW or more below the highest, and takes what lies less', () => {
    const w = new ReplayWindow();
    expect(w.accept(5000)).toBe(true);
    expect(w.accept(5000 - W)).toBe(false);
    expect(w.accept(5000 - W - 1)).toBe(false);
    expect(w.accept(1)).toBe(false);
    expect(w.accept(5000 - W + 1)).toBe(true);
    expect(w.accept(5000 - W + 1)).toBe(false);
    expect(w.accept(4999)).toBe(true);
  });

  it('a jump beyond the window leaves no stale slot behind', () => {
    const w = new ReplayWindow();
    for (let s = 1; s <= 10; s++) expect(w.accept(s)).toBe(true);
    // Each of these shares a slot (seq % W) with one accepted before.
    for (let s = 1; s <= 10; s++) expect(w.accept(s + 3 * W)).toBe(true);
    for (let s = 1; s <= 10; s++) expect(w.accept(s + 3 * W)).toBe(false);
    for (let s = 11; s <= 20; s++) expect(w.accept(s + 2 * W + 100)).toBe(true); // inside the new window, never seen
  });

  it('takes every order of a window-sized block exactly once', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const w = new ReplayWindow();
    const base = 100_000;
    const block = Array.from({ length: W }, (_, i) => base + i);
    for (let i = block.length - 1; i > 0; i--) {
      const j = rand(i + 1);
      [block[i], block[j]] = [block[j], block[i]];
    }
    // The highest first, so the whole block is inside the window from then on.
    block.splice(block.indexOf(base + W - 1), 1);
    expect(w.accept(base + W - 1)).toBe(true);
    for (const s of block) expect(w.accept(s)).toBe(true);
    for (const s of block) expect(w.accept(s)).toBe(false);
  });

  it('sequence numbers start at 1: 0 is never accepted', () => {
    expect(new ReplayWindow().accept(0)).toBe(false);
  });

  it('refuses everything below its floor, and takes the floor and above as usual', () => {
    const w = new ReplayWindow(50);
    expect(w.accept(49)).toBe(false);
    expect(w.accept(1)).toBe(false);
    expect(w.accept(50)).toBe(true);
    expect(w.accept(50)).toBe(false);
    expect(w.accept(60)).toBe(true);
    expect(w.accept(55)).toBe(true);
    expect(w.accept(49)).toBe(false);
    // a floor above the first frame accepted is no different
    const v = new ReplayWindow(10);
    expect(v.accept(12)).toBe(true);
    expect(v.accept(11)).toBe(true);
    expect(v.accept(9)).toBe(false);
  });

  it('keeps exact sequence numbers up to 2^53', () => {
    const w = new ReplayWindow();
    const top = Number.MAX_SAFE_INTEGER;
    expect(w.accept(top - 1)).toBe(true);
    expect(w.accept(top)).toBe(true);
    expect(w.accept(top - 1)).toBe(false);
    expect(w.accept(top - 2)).toBe(true);
  });
});

describe('FrameAuth replay state under pressure (review findings)', () => {
  it('a gateway keyholder inventing thousands of sender names cannot evict a replica’s replay state', () => {
    const n1 = endpoint('n1');
    const n2 = endpoint('n2');
    const captured = n1.seal(direct('n2'), 'once', ['n2']);
    accepted(n2.open(direct('n2'), captured));
    for (let i = 0; i < 5000; i++) accepted(n2.open(direct('n2'), endpoint(`gw-${i}`).seal(direct('n2'), 'flood', ['n2'])));
    expect(n2.open(direct('n2'), captured)).toBe('replayed');
  });

  it('a control command overtaken by 1100 later bus frames of the same sender (another channel) is still accepted once', () => {
    const gw = endpoint('gw-1');
    const n2 = endpoint('n2');
    accepted(gw.open(BEACONS, n2.seal(BEACONS, 'beacon', [CLIENT_PRINCIPAL]))); // the gateway learns n2's incarnation
    const control = 'synod.c1.control.n2';
    const command = sealEnvelope(gw, control, 'n2', { corr: 'c', req: { action: 'status' } });
    for (let i = 0; i < 1100; i++) accepted(n2.open(direct('n2'), gw.sealTo(direct('n2'), 'n2', i)));
    accepted(openEnvelope(n2, control, command) as Opened);
    expect(openEnvelope(n2, control, command)).toBe('replayed');
  });
});
