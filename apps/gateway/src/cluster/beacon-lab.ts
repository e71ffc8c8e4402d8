import type { BeaconLab, BeaconPbftLab, BeaconRaftLab, LinkCounters } from '@app/wire';

/**
 * The fault lab's part of a beacon (libs/wire/src/lab.ts), checked field by field like the rest:
 * a Byzantine replica signs its beacons too, so nothing in them may break the gateway or the page.
 * Anything malformed is dropped whole (null); maps are capped.
 */

const MAX_KEYS = 64;
const MAX_SLOTS = 64;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const id = (v: unknown): v is string => typeof v === 'string' && v !== '' && v.length <= 64;

/** A map of names to counts; null when malformed or too large. */
function counts(v: unknown): Record<string, number> | null {
  if (!isRecord(v)) return null;
  const entries = Object.entries(v);
  // A name of Object.prototype's ("constructor", "__proto__") would read as something else than a count later.
  if (entries.length > MAX_KEYS || !entries.every(([k, n]) => k.length <= 64 && !(k in Object.prototype) && count(n))) return null;
  return Object.fromEntries(entries) as Record<string, number>;
}

function ids(v: unknown): string[] | null {
  return Array.isArray(v) && v.length <= MAX_KEYS && v.every(id) ? (v as string[]) : null;
}

function parseLinks(v: unknown): Record<string, LinkCounters> | null {
  if (!isRecord(v) || Object.keys(v).length > MAX_KEYS) return null;
  const links: Record<string, LinkCounters> = {};
  for (const [peer, c] of Object.entries(v)) {
    if (!id(peer) || !isRecord(c)) return null;
    const sent = counts(c.sent);
    const recv = counts(c.recv);
    const dropped = counts(c.dropped);
    if (sent === null || recv === null || dropped === null) return null;
    links[peer] = { sent, recv, dropped };
  }
  return links;
}

function parseRaft(v: unknown): BeaconRaftLab | null {
  if (!isRecord(v) || !(v.votedFor === null || id(v.votedFor))) return null;
  const votes = ids(v.votes);
  if (votes === null || !isRecord(v.progress) || Object.keys(v.progress).length > MAX_KEYS) return null;
  const progress: BeaconRaftLab['progress'] = {};
  for (const [peer, p] of Object.entries(v.progress)) {
    if (!id(peer) || !isRecord(p) || !count(p.match) || !count(p.next) || typeof p.state !== 'string' || p.state.length > 16) return null;
    progress[peer] = { match: p.match, next: p.next, state: p.state };
  }
  return { votedFor: v.votedFor, votes, progress };
}

function parsePbft(v: unknown): BeaconPbftLab | null {
  if (!isRecord(v) || !(v.primary === null || id(v.primary)) || typeof v.viewChanging !== 'boolean' || !count(v.low) || !count(v.high)) return null;
  if (!Array.isArray(v.slots) || v.slots.length > MAX_SLOTS) return null;
  const slots: BeaconPbftLab['slots'] = [];
  for (const s of v.slots) {
    if (!Array.isArray(s) || s.length !== 4 || !s.every(count)) return null;
    slots.push([s[0], s[1], s[2], s[3] === 1 ? 1 : 0]);
  }
  const pbft: BeaconPbftLab = { primary: v.primary, viewChanging: v.viewChanging, low: v.low, high: v.high, slots };
  if (v.viewChange !== undefined) {
    const vc = v.viewChange;
    const from = isRecord(vc) ? ids(vc.from) : null;
    if (!isRecord(vc) || !count(vc.to) || from === null) return null;
    pbft.viewChange = { to: vc.to, from };
  }
  return pbft;
}

export function parseBeaconLab(v: unknown): BeaconLab | null {
  if (!isRecord(v) || !isRecord(v.log) || !count(v.stateTransfers)) return null;
  const { last, commit, applied, snapshot } = v.log;
  if (!count(last) || !count(commit) || !count(applied) || !count(snapshot)) return null;
  const links = parseLinks(v.links);
  const dropped = counts(v.dropped);
  const cut = ids(v.cut);
  if (links === null || dropped === null || cut === null) return null;
  const lab: BeaconLab = { log: { last, commit, applied, snapshot }, stateTransfers: v.stateTransfers, links, dropped, cut };
  if (v.raft !== undefined) {
    const raft = parseRaft(v.raft);
    if (raft === null) return null;
    lab.raft = raft;
  }
  if (v.pbft !== undefined) {
    const pbft = parsePbft(v.pbft);
    if (pbft === null) return null;
    lab.pbft = pbft;
  }
  return lab;
}

/**
 * The lab part as far as it names replicas of this cluster: a replica can only have links to, cut,
 * follow or hear from the replicas of `directory` other than itself, so names outside it (a
 * Byzantine replica inventing peers) are left out rather than drawn, healed or turned into events.
 */
export function scopeLab(lab: BeaconLab, self: string, directory: ReadonlySet<string>): BeaconLab {
  const peer = (id: string): boolean => id !== self && directory.has(id);
  const scoped: BeaconLab = {
    ...lab,
    links: Object.fromEntries(Object.entries(lab.links).filter(([id]) => peer(id))),
    cut: lab.cut.filter(peer),
  };
  if (lab.raft) {
    scoped.raft = {
      votedFor: lab.raft.votedFor !== null && directory.has(lab.raft.votedFor) ? lab.raft.votedFor : null,
      votes: lab.raft.votes.filter((id) => directory.has(id)),
      progress: Object.fromEntries(Object.entries(lab.raft.progress).filter(([id]) => peer(id))),
    };
  }
  if (lab.pbft) {
    scoped.pbft = { ...lab.pbft, primary: lab.pbft.primary !== null && directory.has(lab.pbft.primary) ? lab.pbft.primary : null };
    if (lab.pbft.viewChange) scoped.pbft.viewChange = { to: lab.pbft.viewChange.to, from: lab.pbft.viewChange.from.filter((id) => directory.has(id)) };
  }
  return scoped;
}
