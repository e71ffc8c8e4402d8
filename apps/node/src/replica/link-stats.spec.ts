import { LinkStats } from './link-stats';

const msg = (type: unknown): object => ({ type });

describe('LinkStats', () => {
  const peers = ['n2', 'n3', 'n4'];

  it('counts messages sent to one peer by type, on that link only', () => {
    const s = new LinkStats(peers);
    s.sent('n2', [msg('AppendEntries'), msg('AppendEntries'), msg('RequestVote')]);
    const { links } = s.snapshot();
    expect(links).toEqual({ n2: { sent: { AppendEntries: 2, RequestVote: 1 }, recv: {}, dropped: {} } });
  });

  it('counts a broadcast (to: null) once for every peer', () => {
    const s = new LinkStats(peers);
    s.sent(null, [msg('Prepare'), msg('Commit')]);
    s.sent('n3', [msg('Prepare')]);
    const { links } = s.snapshot();
    expect(Object.keys(links).sort()).toEqual(peers);
    expect(links.n2.sent).toEqual({ Prepare: 1, Commit: 1 });
    expect(links.n3.sent).toEqual({ Prepare: 2, Commit: 1 });
    expect(links.n4.sent).toEqual({ Prepare: 1, Commit: 1 });
  });

  it('counts messages received from a peer; a message without a string type counts as other', () => {
    const s = new LinkStats(peers);
    s.received('n4', [msg('Heartbeat'), msg(7), {}, msg(null), msg('Heartbeat')]);
    expect(s.snapshot().links.n4).toEqual({ sent: {}, recv: { Heartbeat: 2, other: 3 }, dropped: {} });
  });

  it('counts drops per link and in the totals by reason; a drop with no peer only in the totals; nothing for a count <= 0', () => {
    const s = new LinkStats(peers);
    s.drop('n2', 'link-cut', 3);
    s.drop('n2', 'link-cut', 2);
    s.drop('n3', 'isolated', 4);
    s.drop(null, 'not-a-peer', 1);
    s.drop('n4', 'killed', 0);
    s.drop('n4', 'killed', -5);
    const { links, dropped } = s.snapshot();
    expect(links.n2.dropped).toEqual({ 'link-cut': 5 });
    expect(links.n3.dropped).toEqual({ isolated: 4 });
    expect(links.n4).toBeUndefined(); // a zero or negative count touches nothing, not even the link
    expect(dropped).toEqual({ 'link-cut': 5, isolated: 4, 'not-a-peer': 1 });
  });

  it("keeps 'rejected' on the link but out of the totals (the runtime counts those by their own reason)", () => {
    const s = new LinkStats(peers);
    s.drop('n2', 'rejected', 6);
    s.drop('n2', 'killed', 1);
    const { links, dropped } = s.snapshot();
    expect(links.n2.dropped).toEqual({ rejected: 6, killed: 1 });
    expect(dropped).toEqual({ killed: 1 });
    expect(dropped).not.toHaveProperty('rejected');
  });

  it('hands out a copy: changing the snapshot changes nothing inside, and later counts do not change an earlier snapshot', () => {
    const s = new LinkStats(peers);
    s.sent('n2', [msg('A')]);
    s.received('n2', [msg('B')]);
    s.drop('n2', 'killed', 1);
    const first = s.snapshot();
    first.links.n2.sent.A = 1000;
    first.links.n2.recv.B = 1000;
    first.links.n2.dropped.killed = 1000;
    first.dropped.killed = 1000;
    delete first.links.n2;
    const second = s.snapshot();
    expect(second).toEqual({ links: { n2: { sent: { A: 1 }, recv: { B: 1 }, dropped: { killed: 1 } } }, dropped: { killed: 1 } });
    s.sent('n2', [msg('A')]);
    s.drop('n2', 'killed', 1);
    expect(second.links.n2.sent.A).toBe(1);
    expect(second.links.n2.dropped.killed).toBe(1);
    expect(second.dropped.killed).toBe(1);
  });

  it("counts invented types beyond the cap as 'other': a Byzantine peer cannot grow the counters without bound", () => {
    const s = new LinkStats(peers);
    s.received('n3', [msg('Prepare')]);
    const invented = Array.from({ length: 5000 }, (_, i) => msg(`Invented${i}`));
    s.received('n3', invented);
    s.received('n3', [msg('Prepare'), msg('NeverSeenBefore')]);
    const recv = s.snapshot().links.n3.recv;
    // 24 names at most, plus 'other'.
    expect(Object.keys(recv).length).toBeLessThanOrEqual(25);
    expect(recv.Prepare).toBe(2); // a name counted before the cap keeps counting
    expect(recv.NeverSeenBefore).toBeUndefined();
    expect(recv.other).toBe(5000 - 23 + 1);
    // Nothing lost: every message is counted somewhere.
    expect(Object.values(recv).reduce((a, b) => a + b, 0)).toBe(5003);
    // The cap is per direction and per link: sends to the same peer still count by name.
    s.sent('n3', [msg('Commit')]);
    expect(s.snapshot().links.n3.sent).toEqual({ Commit: 1 });
  });

  it('keeps every counter a number whatever a peer names its messages (names of Object.prototype members included)', () => {
    // A message type comes from the peer before the protocol core checks anything: a Byzantine
    // replica chooses it. The gateway (parseBeaconLab) drops a beacon's whole lab part when a
    // count is not a non-negative integer, so one such name would blank this replica in the lab.
    const s = new LinkStats(peers);
    s.received('n2', [msg('constructor'), msg('constructor'), msg('toString'), msg('hasOwnProperty'), msg('__proto__')]);
    const recv = s.snapshot().links.n2.recv;
    for (const [type, n] of Object.entries(recv)) expect({ type, n, isCount: Number.isSafeInteger(n) && n >= 0 }).toEqual({ type, n, isCount: true });
    expect(Object.values(recv).reduce((a, b) => a + b, 0)).toBe(5);
  });

  it('takes a frame whatever its messages are (null, numbers): counted as other, the rest of the frame still counted', () => {
    const s = new LinkStats(peers);
    expect(() => s.received('n2', [msg('Prepare'), null, 5, 'x', [], msg('Commit')])).not.toThrow();
    expect(s.snapshot().links.n2.recv).toEqual({ Prepare: 1, Commit: 1, other: 4 });
  });

  it('a broadcast is not counted as sent to a cut peer (its end drops it), and counts again once mended', () => {
    const s = new LinkStats(peers);
    s.cut('n3');
    expect(s.isCut('n3')).toBe(true);
    expect(s.cutList()).toEqual(['n3']);
    s.sent(null, [msg('Prepare')]);
    expect(s.snapshot().links.n3).toBeUndefined();
    s.mend('n3');
    s.sent(null, [msg('Prepare')]);
    expect(s.snapshot().links.n3.sent).toEqual({ Prepare: 1 });
    expect(s.cutList()).toEqual([]);
  });
});
