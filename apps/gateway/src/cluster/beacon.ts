import { BYZANTINE_BEHAVIORS, type Beacon, type BeaconMembers, type BeaconPbftConfiguration } from '@app/wire';
import { isRecord, parseBeaconLab } from './beacon-lab';

const BEHAVIORS: ReadonlySet<string> = new Set(BYZANTINE_BEHAVIORS);

const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);

const ids = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 64 && v.every((id) => typeof id === 'string' && id !== '');

function parseMembers(v: unknown): BeaconMembers | null {
  if (!isRecord(v) || !ids(v.voters) || !ids(v.learners) || typeof v.index !== 'number' || !Number.isInteger(v.index)) return null;
  const members: BeaconMembers = { voters: v.voters, learners: v.learners, index: v.index, committed: v.committed === true };
  if (isRecord(v.match)) members.match = Object.fromEntries(Object.entries(v.match).filter((e): e is [string, number] => typeof e[1] === 'number'));
  const pbft = parsePbft(v.pbft);
  if (pbft !== null) members.pbft = pbft;
  return members;
}

const seqNo = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function parsePbft(v: unknown): BeaconPbftConfiguration | null {
  if (!isRecord(v) || !seqNo(v.since) || typeof v.member !== 'boolean') return null;
  let next: BeaconPbftConfiguration['next'] = null;
  if (v.next !== null) {
    const n = v.next;
    if (!isRecord(n) || !seqNo(n.epoch) || !seqNo(n.since) || !ids(n.replicas)) return null;
    next = { epoch: n.epoch, replicas: n.replicas, since: n.since };
  }
  return { since: v.since, next, member: v.member };
}

/**
 * A beacon from the bus, checked field by field: anything on the topic could be sent by anyone,
 * so a frame without id/role/term is dropped and missing optional fields get neutral values.
 */
export function parseBeacon(body: unknown): Beacon | null {
  if (!isRecord(body) || body.t !== 'beacon') return null;
  if (typeof body.id !== 'string' || body.id === '' || typeof body.role !== 'string') return null;
  if (typeof body.term !== 'number' || !Number.isFinite(body.term)) return null;
  const beacon: Beacon = {
    t: 'beacon',
    id: body.id,
    protocol: body.protocol === 'pbft' ? 'pbft' : 'raft',
    role: body.role,
    term: body.term,
    leader: typeof body.leader === 'string' ? body.leader : null,
    commitIndex: num(body.commitIndex, 0),
    appliedIndex: num(body.appliedIndex, 0),
    alive: body.alive !== false,
    isolated: body.isolated === true,
    // One of the behaviours there are: a made-up name is shown (and keyed) as one value, not each its own.
    byzantine: typeof body.byzantine === 'string' && BEHAVIORS.has(body.byzantine) ? body.byzantine : body.byzantine === undefined ? 'none' : 'unknown',
    pid: num(body.pid, 0),
  };
  if (typeof body.stableCheckpoint === 'number') beacon.stableCheckpoint = body.stableCheckpoint;
  if (typeof body.digest === 'string') beacon.digest = body.digest;
  const members = parseMembers(body.members);
  if (members !== null) beacon.members = members;
  const lab = parseBeaconLab(body.lab);
  if (lab !== null) beacon.lab = lab;
  return beacon;
}
