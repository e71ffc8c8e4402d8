import type { Pending, StoredMessage, TopicRecord } from './topics';
import type { KvEffect, TopicDelivery } from './types';

export type { TopicRecord } from './topics';

/**
 * Topics in the KV snapshot (v6), as flat MessagePack arrays like the rest of it:
 *   topics   [name, start, messages, groups, ...]                sorted by name
 *   messages [key | nil, value, headers, publishedAt, ...]       from offset `start` up
 *   groups   [name, committed, [acked offset, ...], pending, ...] sorted by name, offsets ascending
 *   pending  [offset, consumer | nil, attempt, deadline, ...]    ascending
 *   headers  [name, value, ...]                                  sorted by name
 * and topic results in sessions as [6, op, ...]:
 *   [6, 'topic-publish', topic, offset, rev]   (the id is `<topic>/<offset>`)
 *   [6, 'topic-fetch', topic, group, [offset, key | nil, value, headers, attempt, ...], rev]
 *   [6, 'topic-ack' | 'topic-nack', topic, group, acked | nacked, unknown, rev]
 * Decoding rebuilds every object field by field in the order apply builds it: a retry's answer
 * from a restored replica must be the same bytes as from one that applied the command (PBFT).
 */
const TOPIC_WIDTH = 4;
const MESSAGE_WIDTH = 4;
const GROUP_WIDTH = 4;
const PENDING_WIDTH = 4;
const DELIVERY_WIDTH = 5;

function fail(what: string): never {
  throw new Error(`malformed KV snapshot: ${what}`);
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isString = (v: unknown): v is string => typeof v === 'string';

function flatHeaders(h: Record<string, string>): string[] {
  return Object.keys(h)
    .sort()
    .flatMap((k) => [k, h[k]]);
}

function decodeHeaders(v: unknown, where: string): Record<string, string> {
  if (!Array.isArray(v) || v.length % 2 !== 0) fail(`${where} headers`);
  const h: Record<string, string> = {};
  for (let i = 0; i < v.length; i += 2) {
    const [name, value] = [v[i], v[i + 1]] as unknown[];
    if (!isString(name) || !isString(value) || name === '__proto__' || (i > 0 && !((v[i - 2] as string) < name))) fail(`${where} headers`);
    h[name] = value;
  }
  return h;
}

function chunks(flat: unknown, width: number, where: string): unknown[][] {
  if (!Array.isArray(flat) || flat.length % width !== 0) fail(where);
  const out: unknown[][] = [];
  for (let i = 0; i < flat.length; i += width) out.push(flat.slice(i, i + width));
  return out;
}

export function encodeTopics(topics: TopicRecord[]): unknown[] {
  return topics.flatMap((t) => [
    t.name,
    t.start,
    t.messages.flatMap((m) => [m.key, m.value, flatHeaders(m.headers), m.publishedAt]),
    t.groups.flatMap((g) => [g.name, g.committed, g.acked, g.pending.flatMap((p) => [p.offset, p.consumer, p.attempt, p.deadline])]),
  ]);
}

export function decodeTopics(flat: unknown): TopicRecord[] {
  const topics: TopicRecord[] = [];
  for (const [name, start, flatMessages, flatGroups] of chunks(flat, TOPIC_WIDTH, 'topics')) {
    if (!isString(name) || (topics.length > 0 && !(topics[topics.length - 1].name < name))) fail('topic names not strictly sorted');
    if (!isCount(start)) fail(`topic ${name} start`);
    const messages = chunks(flatMessages, MESSAGE_WIDTH, `topic ${name} messages`).map(([key, value, headers, publishedAt]): StoredMessage => {
      if ((key !== null && !isString(key)) || !isString(value) || !isCount(publishedAt)) fail(`topic ${name} message`);
      return { key, value, headers: decodeHeaders(headers, `topic ${name} message`), publishedAt };
    });
    if (messages.length === 0) fail(`topic ${name} has no messages`);
    const end = start + messages.length;
    const groups: TopicRecord['groups'] = [];
    for (const [group, committed, acked, flatPending] of chunks(flatGroups, GROUP_WIDTH, `topic ${name} groups`)) {
      const where = `topic ${name} group ${String(group)}`;
      if (!isString(group) || (groups.length > 0 && !(groups[groups.length - 1].name < group))) fail(`topic ${name} group names not strictly sorted`);
      if (!isCount(committed) || committed < start || committed > end) fail(`${where} committed`);
      if (!Array.isArray(acked) || !acked.every((o, i) => isCount(o) && o > committed && o < end && (i === 0 || (acked[i - 1] as number) < o)))
        fail(`${where} acked`);
      const pending = chunks(flatPending, PENDING_WIDTH, `${where} pending`).map(([offset, consumer, attempt, deadline]): { offset: number } & Pending => {
        if (
          !isCount(offset) ||
          offset < committed ||
          offset >= end ||
          (consumer !== null && !isString(consumer)) ||
          !isCount(attempt) ||
          attempt < 1 ||
          !isCount(deadline)
        )
          fail(`${where} pending`);
        return { offset, consumer, attempt, deadline };
      });
      const ackedSet = new Set(acked as number[]);
      if (!pending.every((p, i) => (i === 0 || pending[i - 1].offset < p.offset) && !ackedSet.has(p.offset))) fail(`${where} pending offsets`);
      groups.push({ name: group, committed, acked: acked as number[], pending });
    }
    topics.push({ name, start, messages, groups });
  }
  return topics;
}

type TopicEffect = Extract<KvEffect, { op: 'topic-publish' | 'topic-fetch' | 'topic-ack' | 'topic-nack' }>;

export function topicResultTuple(r: TopicEffect): unknown[] {
  switch (r.op) {
    case 'topic-publish':
      return [6, r.op, r.topic, r.offset, r.revision];
    case 'topic-fetch':
      return [6, r.op, r.topic, r.group, r.messages.flatMap((m) => [m.offset, m.key, m.value, flatHeaders(m.headers), m.attempt]), r.revision];
    case 'topic-ack':
      return [6, r.op, r.topic, r.group, r.acked, r.unknown, r.revision];
    case 'topic-nack':
      return [6, r.op, r.topic, r.group, r.nacked, r.unknown, r.revision];
  }
}

function strings(v: unknown, where: string): string[] {
  return Array.isArray(v) && v.every(isString) ? v : fail(where);
}

export function decodeTopicResult(t: unknown[], rev: number): KvEffect {
  const [, op, topic] = t;
  if (!isString(topic)) fail('topic result topic');
  if (op === 'topic-publish' && t.length === 5 && isCount(t[3])) return { op, topic, id: `${topic}/${t[3]}`, offset: t[3], revision: rev };
  const group = t[3];
  if (!isString(group)) fail(`bad topic result ${String(op)}`);
  if (op === 'topic-fetch' && t.length === 6) {
    const messages = chunks(t[4], DELIVERY_WIDTH, 'topic-fetch result').map(([offset, key, value, headers, attempt]): TopicDelivery => {
      if (!isCount(offset) || (key !== null && !isString(key)) || !isString(value) || !isCount(attempt)) fail('topic-fetch result delivery');
      return { id: `${topic}/${offset}`, offset, key, value, headers: decodeHeaders(headers, 'topic-fetch result'), attempt };
    });
    return { op, topic, group, messages, revision: rev };
  }
  if (op === 'topic-ack' && t.length === 7)
    return { op, topic, group, acked: strings(t[4], 'topic-ack acked'), unknown: strings(t[5], 'topic-ack unknown'), revision: rev };
  if (op === 'topic-nack' && t.length === 7)
    return { op, topic, group, nacked: strings(t[4], 'topic-nack nacked'), unknown: strings(t[5], 'topic-nack unknown'), revision: rev };
  return fail(`bad topic result ${String(op)}`);
}
