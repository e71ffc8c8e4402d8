import { ratioLines, ratioValues, READS_MANY, WRITES_MANY, WRITES_ONE } from './ratios';

const etcd = { [WRITES_MANY]: 5000, [WRITES_ONE]: 1000, [READS_MANY]: 8000 };

describe('bench ratios', () => {
  it('gives the four ratios of one round against their goals', () => {
    const v = ratioValues(etcd, { raft: { [WRITES_MANY]: 5500, [WRITES_ONE]: 500, [READS_MANY]: 12000 }, pbft: { [WRITES_MANY]: 1250 } });
    expect(v.map((r) => [r.name, r.value, r.goal])).toEqual([
      ['raft writes, many connections', 1.1, 2],
      ['raft writes, 1 connection', 0.5, 1],
      ['raft linearizable reads, many connections', 1.5, 2],
      ["pbft writes vs etcd's raft, many connections", 0.25, 1],
    ]);
    expect(ratioLines([v])).toEqual([
      'ratios (Synod / etcd, this run):',
      '  raft writes, many connections: 1.10 (goal >= 2)',
      '  raft writes, 1 connection: 0.50 (goal >= 1)',
      '  raft linearizable reads, many connections: 1.50 (goal >= 2)',
      "  pbft writes vs etcd's raft, many connections: 0.25 (goal >= 1)",
    ]);
  });

  it('takes the median over rounds, so one slow round does not make the figure', () => {
    const round = (w: number) => ratioValues(etcd, { raft: { [WRITES_MANY]: w, [WRITES_ONE]: 500, [READS_MANY]: 8000 } });
    const lines = ratioLines([round(5000), round(2500), round(6000)]);
    expect(lines[0]).toBe('ratios (Synod / etcd, 3 rounds in this run; median, then each round):');
    expect(lines[1]).toBe('  raft writes, many connections: 1.00 [1.00, 0.50, 1.20] (goal >= 2)');
  });

  it('says n/a where a side was not measured', () => {
    expect(ratioLines([ratioValues({}, { pbft: { [WRITES_MANY]: 100 } })])[1]).toBe("  pbft writes vs etcd's raft, many connections: n/a (goal >= 1)");
  });
});
