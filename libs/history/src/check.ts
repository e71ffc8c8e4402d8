import { byKey } from './decompose';
import { explain, shownOps } from './explain';
import { ValueTable } from './register';
import { searchRegister } from './search';
import { smallestWindow } from './shrink';
import type { CheckOptions, CheckResult, HistoryOp } from './types';

const DEFAULT_MAX_STATES = 1_000_000;
/** Shrinking is best effort: a bounded number of greedy trials and of states over all trials. */
const SHRINK_TRIALS = 64;
const SHRINK_FACTOR = 4;

/**
 * Checks a KV history for linearizability, key by key (each key is a register: put, get,
 * delete, compare-and-set). A key whose search hits the budget is reported in unknownKeys
 * and makes the result incomplete, not a violation.
 */
export function checkLinearizable(history: HistoryOp[], opts: CheckOptions = {}): CheckResult {
  const maxStates = opts.maxStatesPerKey ?? DEFAULT_MAX_STATES;
  const values = new ValueTable();
  const keys = byKey(history, values);
  const result: CheckResult = {
    linearizable: true,
    keys: keys.size,
    ops: history.filter((o) => o.status !== 'fail').length,
    violations: [],
    incomplete: false,
    unknownKeys: [],
  };

  for (const [key, ops] of keys) {
    const initial = values.id(opts.initial?.get(key) ?? null);
    const { verdict, stuckAt } = searchRegister(ops, initial, maxStates);
    if (verdict === 'linearizable') continue;
    if (verdict === 'unknown') {
      result.incomplete = true;
      result.unknownKeys.push(key);
      continue;
    }
    result.linearizable = false;
    const window = smallestWindow(ops, initial, stuckAt, {
      maxStates,
      totalStates: SHRINK_FACTOR * maxStates,
      maxTrials: SHRINK_TRIALS,
    });
    result.violations.push({
      key,
      ops: shownOps(window).map((o) => o.src),
      explanation: explain(key, window, values, maxStates),
    });
  }
  return result;
}
