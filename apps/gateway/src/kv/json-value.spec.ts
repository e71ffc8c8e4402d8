import { canonicalJson, JSON_MARK, jsonValueProblem, loadValue, MAX_JSON_DEPTH, storeValue } from './json-value';

describe('JSON values at the store boundary', () => {
  it('stores strings as themselves and other values as marked canonical JSON, and reads them back', () => {
    expect(storeValue('blue')).toBe('blue');
    expect(storeValue({ b: 1, a: [true, null, 'x'] })).toBe(`${JSON_MARK}{"a":[true,null,"x"],"b":1}`);
    for (const v of ['', '7', 7, 0.5, true, [], {}, { z: { y: [1, { x: 'é' }] } }]) expect(loadValue(storeValue(v))).toEqual(v);
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });

  it('a marked string that is not JSON (written before values were JSON) reads back as the string', () => {
    expect(loadValue(`${JSON_MARK}not json`)).toBe(`${JSON_MARK}not json`);
  });

  it('refuses numbers JSON cannot carry back and nesting past the limit, without recursion', () => {
    expect(jsonValueProblem(JSON.parse('{"n":[1e400]}'))).toMatch(/finite/);
    let deep: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) deep = [deep];
    expect(jsonValueProblem(deep)).toBeNull();
    expect(jsonValueProblem([deep])).toMatch(/nested at most 64/);
    const veryDeep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
    expect(jsonValueProblem(veryDeep)).toMatch(/nested/);
  });
});
