import { seededRng } from '../util/rng';
import { EventQueue } from './event-queue';
import { type Delivery, type LinkConditions, RELIABLE, VirtualNetwork } from './network';

const NODES = ['a', 'b', 'c'];

function net(conditions: Partial<LinkConditions> = {}, seed = 1): VirtualNetwork<number> {
  return new VirtualNetwork<number>(seededRng(seed), NODES, { ...RELIABLE, ...conditions });
}

function drain(n: VirtualNetwork<number>, until = Infinity): Delivery<number>[] {
  const out: Delivery<number>[] = [];
  for (let d = n.deliverDue(until); d !== undefined; d = n.deliverDue(until)) out.push(d);
  return out;
}

describe('EventQueue', () => {
  it('pops by time, ties in insertion order', () => {
    const q = new EventQueue<string>();
    q.push(2, 'c');
    q.push(1, 'a');
    q.push(2, 'd');
    q.push(1, 'b');
    q.push(0.5, 'z');
    const order: string[] = [];
    for (let x = q.pop(); x; x = q.pop()) order.push(x.item);
    expect(order).toEqual(['z', 'a', 'b', 'c', 'd']);
    expect(q.peekTime()).toBe(Infinity);
  });

  it('removeWhere keeps the rest in order', () => {
    const q = new EventQueue<number>();
    for (let i = 10; i > 0; i--) q.push(i, i);
    expect(q.removeWhere((x) => x % 2 === 0)).toBe(5);
    const order: number[] = [];
    for (let x = q.pop(); x; x = q.pop()) order.push(x.item);
    expect(order).toEqual([1, 3, 5, 7, 9]);
  });
});

describe('VirtualNetwork', () => {
  it('delivers each message once, after a delay within the range, in delivery-time order', () => {
    const n = net({ minDelay: 1, maxDelay: 3 });
    for (let i = 0; i < 200; i++) n.send('a', 'b', i, 10);
    const got = drain(n);
    expect(got.map((d) => d.msg).sort((x, y) => x - y)).toEqual([...Array(200).keys()]);
    for (const d of got) {
      expect(d.at - d.sentAt).toBeGreaterThanOrEqual(1);
      expect(d.at - d.sentAt).toBeLessThanOrEqual(3);
    }
    for (let i = 1; i < got.length; i++) expect(got[i].at).toBeGreaterThanOrEqual(got[i - 1].at);
    // Independent delays reorder messages.
    expect(got.map((d) => d.msg)).not.toEqual([...Array(200).keys()]);
  });

  it('delivers nothing before it is due', () => {
    const n = net({ minDelay: 5, maxDelay: 5 });
    n.send('a', 'b', 1, 0);
    expect(n.deliverDue(4.9)).toBeUndefined();
    expect(n.nextDeliveryTime()).toBe(5);
    expect(n.deliverDue(5)?.msg).toBe(1);
  });

  it('drops and duplicates at about the configured rates', () => {
    const n = net({ dropRate: 0.2, duplicateRate: 0.1 });
    for (let i = 0; i < 5000; i++) n.send('a', 'b', i, 0);
    const got = drain(n);
    expect(n.stats.dropped).toBeGreaterThan(800);
    expect(n.stats.dropped).toBeLessThan(1200);
    expect(n.stats.duplicated).toBeGreaterThan(300);
    expect(n.stats.duplicated).toBeLessThan(500);
    expect(got.length).toBe(5000 - n.stats.dropped + n.stats.duplicated);
  });

  it('holds some messages back for long when asked', () => {
    const n = net({ minDelay: 0.1, maxDelay: 0.2, longDelayRate: 0.5, longDelay: 50 });
    for (let i = 0; i < 400; i++) n.send('a', 'b', i, 0);
    const late = drain(n).filter((d) => d.at > 1).length;
    expect(late).toBeGreaterThan(100);
    expect(late).toBeLessThan(300);
  });

  it('partitions: only nodes in one group talk, in-flight messages across the cut are lost, heal restores', () => {
    const n = net();
    n.send('a', 'c', 1, 0); // in flight when the partition starts
    n.partition([['a', 'b'], ['c']]);
    expect(n.canReach('a', 'b')).toBe(true);
    expect(n.canReach('a', 'c')).toBe(false);
    expect(n.canReach('c', 'b')).toBe(false);
    n.send('a', 'b', 2, 0);
    n.send('c', 'a', 3, 0);
    expect(drain(n).map((d) => d.msg)).toEqual([2]);
    n.heal();
    n.send('c', 'a', 4, 1);
    expect(drain(n).map((d) => d.msg)).toEqual([4]);
  });

  it('isolates one node and leaves out-of-group nodes alone', () => {
    const n = net();
    n.isolate('b');
    expect(n.canReach('a', 'c')).toBe(true);
    expect(n.canReach('a', 'b')).toBe(false);
    expect(n.canReach('b', 'c')).toBe(false);
    n.partition([['a', 'b']]); // c is in no group: alone
    expect(n.canReach('a', 'b')).toBe(true);
    expect(n.canReach('c', 'a')).toBe(false);
    expect(n.describe()).toBe('a,b | c');
  });

  it('one-way cuts block one direction only', () => {
    const n = net();
    n.cut('a', 'b');
    expect(n.canReach('a', 'b')).toBe(false);
    expect(n.canReach('b', 'a')).toBe(true);
    expect(n.isPartitioned).toBe(true);
    n.heal();
    expect(n.canReach('a', 'b')).toBe(true);
  });

  it('is deterministic for a seed', () => {
    const run = (seed: number) => {
      const n = net({ minDelay: 0.1, maxDelay: 4, dropRate: 0.1, duplicateRate: 0.1 }, seed);
      for (let i = 0; i < 100; i++) n.send(NODES[i % 3], NODES[(i + 1) % 3], i, i / 10);
      return drain(n).map((d) => `${d.msg}@${d.at}`);
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });
});
