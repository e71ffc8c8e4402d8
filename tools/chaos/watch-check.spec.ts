import type { WatchEvent } from '@app/client';
import type { RecordedOp } from './recorder';
import { verifyWatch } from './watch-check';

let id = 0;
const op = (kind: RecordedOp['kind'], key: string, value: string | undefined, status: RecordedOp['status'], extra: Partial<RecordedOp> = {}): RecordedOp =>
  ({ id: id++, client: 0, kind, key, value, invoke: 0, complete: 1, status, attempts: [], phase: 'workload', ...extra }) as RecordedOp;
const put = (key: string, value: string, revision: number, prevValue?: string): WatchEvent => ({
  type: 'put',
  key,
  value,
  revision,
  ...(prevValue ? { prevValue } : {}),
});
const del = (key: string, revision: number, prevValue: string): WatchEvent => ({ type: 'delete', key, value: null, revision, prevValue });

describe('verifyWatch: the chaos run’s watch check', () => {
  const ops = [
    op('put', 'k', 'a', 'ok'),
    op('put', 'k', 'b', 'ok'),
    op('cas', 'k', 'c', 'ok', { result: { succeeded: false } }),
    op('put', 'k', 'd', 'info'),
    op('put', 'j', 'x', 'fail'),
    op('get', 'k', undefined, 'ok', { phase: 'final-read', result: { value: null } }),
  ];
  const good = [put('k', 'a', 3), put('k', 'b', 5, 'a'), put('k', 'd', 6, 'b'), del('k', 9, 'd')];

  it('passes a complete, ordered stream that ends at the final read', () => {
    expect(verifyWatch(good, ops)).toEqual([]);
    // The indeterminate write may also never have happened.
    expect(verifyWatch([put('k', 'a', 3), put('k', 'b', 5, 'a'), del('k', 9, 'b')], ops)).toEqual([]);
  });

  it('catches a dropped change, a repeated one, a reordering, a refused write, and a wrong end', () => {
    expect(verifyWatch([good[0], good[2], good[3]], ops)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/replaced "b", but the change before it left "a"/),
        expect.stringMatching(/acknowledged put k=b delivered 0/),
      ]),
    );
    expect(verifyWatch([good[0], good[1], good[1], good[2], good[3]], ops)).toEqual(expect.arrayContaining([expect.stringMatching(/delivered twice/)]));
    expect(verifyWatch([good[1], good[0], good[2], good[3]], ops)).toEqual(expect.arrayContaining([expect.stringMatching(/after revision 5/)]));
    expect(verifyWatch([...good, put('j', 'x', 10)], ops)).toEqual([expect.stringMatching(/refused put j=x delivered 1/)]);
    expect(verifyWatch([...good.slice(0, 3), put('k', 'c', 8, 'd'), del('k', 9, 'c')], ops)).toEqual([expect.stringMatching(/refused cas k=c delivered 1/)]);
    expect(verifyWatch(good.slice(0, 3), ops)).toEqual([expect.stringMatching(/final read says null/)]);
  });
});
