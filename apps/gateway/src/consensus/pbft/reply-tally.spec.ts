import type { Reply } from '@app/consensus/pbft';
import { replyRule, ReplyTally } from './reply-tally';

const FOUR = ['n1', 'n2', 'n3', 'n4'];
const SEVEN = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];
const reply = (from: string, result: string): Reply => ({
  type: 'Reply',
  from,
  to: 'gateway/gw',
  view: 0,
  id: 'r1',
  result: new TextEncoder().encode(result),
  sig: new Uint8Array(),
});

describe('reply quorums across a reconfiguration', () => {
  it('f+1 of the configuration in force; during a change the larger f plus one, from either set', () => {
    expect(replyRule({ prev: null, current: { epoch: 0, replicas: FOUR, since: 0 }, next: null }, 0)).toEqual({ members: new Set(FOUR), need: 2 });
    const growing = replyRule({ prev: null, current: { epoch: 0, replicas: FOUR, since: 0 }, next: { epoch: 1, replicas: SEVEN, since: 32 } }, 0);
    expect(growing).toEqual({ members: new Set(SEVEN), need: 3 });
    // A request sent before the switch may have been executed by the old set; one sent after, only by the new.
    const shrunk = { prev: { epoch: 1, replicas: SEVEN, since: 32 }, current: { epoch: 2, replicas: ['n4', 'n5', 'n6', 'n7'], since: 64 }, next: null };
    expect(replyRule(shrunk, 1)).toEqual({ members: new Set(SEVEN), need: 3 });
    expect(replyRule(shrunk, 2)).toEqual({ members: new Set(['n4', 'n5', 'n6', 'n7']), need: 2 });
  });

  it('counts matching replies of members only, judged by the rule when each arrives', () => {
    const t = new ReplyTally();
    const rule = { members: new Set(FOUR), need: 2 };
    expect(t.add(reply('n9', 'a'), rule)).toBeNull();
    expect(t.add(reply('n1', 'a'), rule)).toBeNull();
    expect(t.add(reply('n2', 'b'), rule)).toBeNull();
    expect(t.add(reply('n9', 'a'), { members: new Set(FOUR), need: 2 })).toBeNull(); // its first reply counts, and it is no member
    expect(t.add(reply('n3', 'a'), { members: new Set(SEVEN), need: 3 })).toBeNull(); // a change raised the bar
    expect(t.add(reply('n4', 'a'), { members: new Set(SEVEN), need: 3 })).toEqual(['n1', 'n3', 'n4']);
  });
});
