import type { BeaconMembers, BeaconPbftConfiguration } from '@app/wire';
import { PbftConfigurationTracker } from './pbft-configurations';

const report = (replicas: string[], epoch: number, since: number, next: BeaconPbftConfiguration['next'] = null, member = true): BeaconMembers => ({
  voters: replicas,
  learners: [],
  index: epoch,
  committed: next === null,
  pbft: { since, next, member },
});

const FOUR = ['n1', 'n2', 'n3', 'n4'];
const SEVEN = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];

describe('PbftConfigurationTracker (the gateway trusts a configuration f+1 replicas vouch for)', () => {
  it('starts from the initial configuration and takes a decided change, then the new set, on f+1 reports of the trusted one', () => {
    const t = new PbftConfigurationTracker(FOUR);
    expect(t.configurations).toEqual({ prev: null, current: { epoch: 0, replicas: FOUR, since: 0 }, next: null });
    const next = { epoch: 1, replicas: SEVEN, since: 32 };
    expect(t.observe('n1', report(FOUR, 0, 0, next))).toBe(false); // one replica (f = 1) is not enough
    expect(t.observe('n2', report(FOUR, 0, 0, next))).toBe(true);
    expect(t.configurations.next).toEqual(next);
    t.observe('n1', report(SEVEN, 1, 32));
    expect(t.configurations.current.epoch).toBe(0);
    t.observe('n3', report(SEVEN, 1, 32));
    expect(t.configurations).toEqual({ prev: { epoch: 0, replicas: FOUR, since: 0 }, current: next, next: null });
  });

  it('never takes a configuration f replicas alone claim, nor steps back to an older epoch', () => {
    const t = new PbftConfigurationTracker(FOUR);
    t.observe('n4', report(['n4', 'n5', 'n6', 'n7'], 5, 160)); // one liar of the trusted set, one of its own set
    expect(t.configurations.current.epoch).toBe(0);
    t.observe('n1', report(SEVEN, 1, 32));
    t.observe('n2', report(SEVEN, 1, 32));
    expect(t.configurations.current.epoch).toBe(1);
    t.observe('n1', report(FOUR, 0, 0));
    t.observe('n2', report(FOUR, 0, 0));
    expect(t.configurations.current.epoch).toBe(1);
  });

  it('a gateway that started after the initial replicas were removed takes the present set on f+1 reports of that set itself', () => {
    const t = new PbftConfigurationTracker(FOUR);
    const present = ['n5', 'n6', 'n7', 'n8'];
    t.observe('n5', report(present, 3, 96));
    expect(t.configurations.current.epoch).toBe(0);
    t.observe('n6', report(present, 3, 96));
    expect(t.configurations.current).toEqual({ epoch: 3, replicas: present, since: 96 });
  });
});
