import { SimHistory } from './history';

describe('SimHistory (the simulator clients as the linearizability checker sees them)', () => {
  it('accepts a history where every read sees the last completed write', () => {
    const h = new SimHistory();
    h.invokeWrite('c1/1', { op: 'put', key: 'k', value: 'a' }, 0);
    h.wrote('c1/1', { op: 'put', key: 'k', value: 'a', revision: 1 }, 1);
    h.invokeRead('c2/1', 'k', 2);
    h.read('c2/1', 'a', 3);
    h.invokeWrite('c1/2', { op: 'cas', key: 'k', expected: 'a', value: 'b' }, 4);
    h.invokeRead('c2/2', 'k', 4.5); // concurrent with the cas: either value will do
    h.read('c2/2', 'a', 5);
    h.wrote('c1/2', { op: 'cas', key: 'k', succeeded: true, value: 'b', revision: 2 }, 6);
    expect(h.violation()).toBeNull();
  });

  it('reports a stale read: the value before a write that completed before the read began', () => {
    const h = new SimHistory();
    h.invokeWrite('c1/1', { op: 'put', key: 'k', value: 'a' }, 0);
    h.wrote('c1/1', { op: 'put', key: 'k', value: 'a', revision: 1 }, 1);
    h.invokeWrite('c1/2', { op: 'put', key: 'k', value: 'b' }, 2);
    h.wrote('c1/2', { op: 'put', key: 'k', value: 'b', revision: 2 }, 3);
    h.invokeRead('c2/1', 'k', 4);
    h.read('c2/1', 'a', 5);
    expect(h.violation()).toMatch(/key k/);
  });

  it('an unanswered write may or may not have happened; an unanswered read had no effect', () => {
    const h = new SimHistory();
    h.invokeWrite('c1/1', { op: 'put', key: 'k', value: 'a' }, 0); // never answered
    h.invokeRead('c2/1', 'k', 1);
    h.read('c2/1', 'a', 2);
    h.invokeRead('c3/1', 'k', 3); // never answered
    expect(h.violation()).toBeNull();
  });

  it('a refused or conflicting write took no effect', () => {
    const h = new SimHistory();
    h.invokeWrite('c1/1', { op: 'put', key: 'k', value: 'a' }, 0);
    h.wrote('c1/1', { op: 'refused', key: 'k', reason: 'outside-window', revision: 1 }, 1);
    h.invokeRead('c2/1', 'k', 2);
    h.read('c2/1', 'a', 3);
    expect(h.violation()).toMatch(/key k/);
  });
});
