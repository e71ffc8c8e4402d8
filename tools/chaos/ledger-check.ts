import { request } from './http';

export interface LedgerReport {
  /** Every replica's chain intact against its storage and every head agreeing at one index. */
  ok: boolean;
  commonIndex: number | null;
  /** Replicas whose recomputed chain differs from what they recorded, or that did not answer. */
  broken: string[];
  agree: boolean;
}

/**
 * GET /v1/ledger/verify after the run: asked again until it passes or `timeoutMs` is over, since a
 * replica that was just revived may still be catching up on its chain when convergence is seen.
 */
export async function checkLedger(base: string, timeoutMs: number): Promise<LedgerReport> {
  const deadline = Date.now() + timeoutMs;
  let last: LedgerReport = { ok: false, commonIndex: null, broken: [], agree: false };
  for (;;) {
    const r = await request(base, 'GET', '/v1/ledger/verify', { timeoutMs: 10_000 }).catch(() => null);
    if (r?.status === 200 && typeof r.body === 'object' && r.body !== null) {
      const v = r.body as { ok?: boolean; agree?: boolean; commonIndex?: number; replicas?: Array<{ id: string; intact?: boolean; alive?: boolean }> };
      last = {
        ok: v.ok === true,
        agree: v.agree === true,
        commonIndex: typeof v.commonIndex === 'number' ? v.commonIndex : null,
        broken: (v.replicas ?? []).filter((x) => x.intact !== true).map((x) => x.id),
      };
      if (last.ok) return last;
    }
    if (Date.now() > deadline) return last;
    await new Promise((res) => setTimeout(res, 500));
  }
}
