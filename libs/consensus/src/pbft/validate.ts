import type { ClientRequest, PbftMessage } from './types';

/**
 * Shape checks for what arrives from the bus: a Byzantine peer with a valid key can still send
 * any structure. The protocol checks (signatures, views, certificates) come after these.
 */
// Globals read once (Jest's sandbox makes each lookup slow).
const { isSafeInteger, isFinite } = Number;
const { isArray } = Array;
const Bytes = Uint8Array;

const isNat = (v: unknown): v is number => typeof v === 'number' && isSafeInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';
const isBytes = (v: unknown): v is Uint8Array => v instanceof Bytes;
const isArr = (v: unknown, max: number): v is unknown[] => isArray(v) && v.length <= max;

/** Upper bound on any list in a message (certificates, batches, proofs). */
const MAX_LIST = 100_000;

export function wellFormedRequest(r: unknown): r is ClientRequest {
  if (typeof r !== 'object' || r === null) return false;
  const x = r as ClientRequest;
  return isStr(x.client) && isStr(x.id) && typeof x.ts === 'number' && isFinite(x.ts) && isBytes(x.op) && isBytes(x.sig);
}

function signedBase(m: PbftMessage): boolean {
  return isStr(m.from) && (m.to === null || isStr(m.to)) && isBytes(m.sig);
}

function vote(m: unknown, type: 'PrePrepare' | 'Prepare' | 'Commit'): boolean {
  if (typeof m !== 'object' || m === null) return false;
  const x = m as PbftMessage & { view: unknown; seq: unknown; digest: unknown };
  if (x.type !== type || !signedBase(x) || !isNat(x.view) || !isNat(x.seq) || !isStr(x.digest)) return false;
  if (type === 'PrePrepare') {
    const reqs = (x as { requests?: unknown }).requests;
    return isArr(reqs, MAX_LIST) && reqs.every(wellFormedRequest);
  }
  return true;
}

function checkpoint(m: unknown): boolean {
  if (typeof m !== 'object' || m === null) return false;
  const x = m as PbftMessage & { seq: unknown; digest: unknown };
  return x.type === 'Checkpoint' && signedBase(x) && isNat(x.seq) && isStr(x.digest);
}

function viewChange(m: unknown): boolean {
  if (typeof m !== 'object' || m === null) return false;
  const x = m as PbftMessage & Record<string, unknown>;
  if (x.type !== 'ViewChange' || !signedBase(x) || !isNat(x.view) || !isNat(x.stableSeq)) return false;
  if (!isArr(x.checkpointProof, MAX_LIST) || !x.checkpointProof.every(checkpoint)) return false;
  if (!isArr(x.prepared, MAX_LIST)) return false;
  return x.prepared.every((p) => {
    if (typeof p !== 'object' || p === null) return false;
    const c = p as { prePrepare: unknown; prepares: unknown };
    return vote(c.prePrepare, 'PrePrepare') && isArr(c.prepares, MAX_LIST) && c.prepares.every((q) => vote(q, 'Prepare'));
  });
}

/** A link of the configuration chain carried by a State (reconfiguration.ts). */
function configurationLink(l: unknown): boolean {
  if (typeof l !== 'object' || l === null) return false;
  const y = l as Record<string, unknown>;
  const c = y.configuration as Record<string, unknown> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    isNat(c.epoch) &&
    isNat(c.since) &&
    isArr(c.replicas, MAX_LIST) &&
    c.replicas.every(isStr) &&
    isNat(y.seq) &&
    isStr(y.digest) &&
    isNat(y.position) &&
    isStr(y.part) &&
    (y.head === null || isStr(y.head)) &&
    isArr(y.proof, MAX_LIST) &&
    y.proof.every(checkpoint)
  );
}

export function wellFormed(m: unknown): m is PbftMessage {
  if (typeof m !== 'object' || m === null) return false;
  const x = m as PbftMessage & Record<string, unknown>;
  switch (x.type) {
    case 'Forward':
      return signedBase(x) && isNat(x.view) && isArr(x.requests, MAX_LIST) && x.requests.every(wellFormedRequest);
    case 'PrePrepare':
    case 'Prepare':
    case 'Commit':
      return vote(x, x.type);
    case 'Checkpoint':
      return checkpoint(x);
    case 'ViewChange':
      return viewChange(x);
    case 'NewView':
      return (
        signedBase(x) &&
        isNat(x.view) &&
        isArr(x.viewChanges, MAX_LIST) &&
        x.viewChanges.every(viewChange) &&
        isArr(x.prePrepares, MAX_LIST) &&
        x.prePrepares.every((p) => vote(p, 'PrePrepare'))
      );
    case 'Status':
      return (
        signedBase(x) &&
        isNat(x.view) &&
        typeof x.active === 'boolean' &&
        isNat(x.stableSeq) &&
        isNat(x.lastExecuted) &&
        isArr(x.slots, MAX_LIST) &&
        x.slots.every(isNat)
      );
    case 'FetchState':
      return signedBase(x) && isNat(x.seq);
    case 'State':
      return (
        signedBase(x) &&
        isNat(x.seq) &&
        isStr(x.digest) &&
        isNat(x.position) &&
        isBytes(x.snapshot) &&
        isArr(x.proof, MAX_LIST) &&
        x.proof.every(checkpoint) &&
        (x.links === undefined || (isArr(x.links, MAX_LIST) && x.links.every(configurationLink)))
      );
    case 'FetchCommitted':
      return signedBase(x) && isNat(x.after);
    case 'Committed':
      return (
        signedBase(x) &&
        isArr(x.certificates, MAX_LIST) &&
        x.certificates.every((c) => {
          if (typeof c !== 'object' || c === null) return false;
          const y = c as unknown as Record<string, unknown>;
          return (
            isNat(y.view) &&
            isNat(y.seq) &&
            isStr(y.digest) &&
            isArr(y.requests, MAX_LIST) &&
            y.requests.every(wellFormedRequest) &&
            isArr(y.commits, MAX_LIST) &&
            y.commits.every((q) => vote(q, 'Commit'))
          );
        })
      );
    default:
      return false;
  }
}
