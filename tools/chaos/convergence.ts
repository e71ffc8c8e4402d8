import { request } from './http';

export interface Convergence {
  converged: boolean;
  /** Whether every replica published a state digest (else only appliedIndex was compared). */
  digests: boolean;
  appliedIndex: number | null;
  /** The last /v1/cluster nodes seen, for the report when it did not converge. */
  nodes: Array<Record<string, unknown>>;
  waitedMs: number;
}

/** Replicas publish a digest only when it is cheap and current (Raft: about once a second). */
const DIGEST_GRACE_MS = 5000;

/**
 * Waits until every replica is alive and all report the same appliedIndex and, when they publish
 * one, the same state digest. Digests that differ at one applied index mean diverged state
 * machines: that never converges.
 */
export async function waitForConvergence(base: string, timeoutMs: number): Promise<Convergence> {
  const t0 = Date.now();
  let nodes: Array<Record<string, unknown>> = [];
  let agreedSince: number | null = null;
  for (;;) {
    const r = await request(base, 'GET', '/v1/cluster', { timeoutMs: 5000 });
    if (r.status === 200 && Array.isArray(r.body?.nodes)) {
      nodes = r.body.nodes;
      const sameIndex = nodes.length > 0 && nodes.every((n) => n.alive === true) && new Set(nodes.map((n) => n.appliedIndex)).size === 1;
      const digests = nodes.every((n) => typeof n.digest === 'string');
      const done = (d: boolean): Convergence => ({
        converged: true,
        digests: d,
        appliedIndex: nodes[0].appliedIndex as number,
        nodes,
        waitedMs: Date.now() - t0,
      });
      if (!sameIndex) agreedSince = null;
      else if (digests) {
        if (new Set(nodes.map((n) => n.digest)).size === 1) return done(true);
      } else {
        agreedSince ??= Date.now();
        if (Date.now() - agreedSince >= DIGEST_GRACE_MS) return done(false);
      }
    }
    if (Date.now() - t0 > timeoutMs) {
      return { converged: false, digests: nodes.every((n) => typeof n.digest === 'string'), appliedIndex: null, nodes, waitedMs: Date.now() - t0 };
    }
    await new Promise((res) => setTimeout(res, 250));
  }
}
