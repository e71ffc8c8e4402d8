import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import {
  ADMIN_ACTIONS,
  SynodClient,
  SynodCompactedError,
  SynodError,
  SynodUnavailableError,
  type AdminAction,
  type Item,
  type JsonValue,
  type Lease,
  type SynodLeaseLostError,
  type TxnOpResult,
  type TxnRequest,
} from '@app/client';

/**
 * synodctl: the cluster from a shell, as etcdctl is for etcd, through the SDK (so with its
 * failover and retries). Exit status: 0 done, 1 the cluster said no (or a get found nothing), 2 bad
 * usage, 3 no gateway could serve.
 */
const USAGE = `usage: synodctl [--endpoints URL,...] [--token T] [--output text|json] <command> ...

  put <key> <value> [--lease ID]
                                write a key (an Idempotency-Key of its own, retried safely);
                                --lease: attached to the lease (deleted when it goes)
  get <key> [--stale] [--rev R] read a key, as it was at revision R with --rev (exit 1 when it
                                does not exist)
  del <key>                     delete a key
  cas <key> <expected> <value>  write if the value is <expected> now; --absent: if the key is absent
  range <prefix> [--limit N]    every key under a prefix, in key order, page by page
  txn <file.json | ->           a transaction, its JSON body ({"compare":[...],"success":[...],
                                "failure":[...]}) from a file or stdin (exit 1 when the comparisons
                                fail: the failure branch ran)
  compact <revision>            drop the history up to a revision (reads before it, watches from
                                it or before: 410)
  watch --prefix P | --key K [--rev R]
                                the changes as they happen, one JSON line each, from revision R (or
                                from now) until Ctrl-C; across gateways, without a gap
  lease grant <ttl>             a new lease of <ttl> seconds; prints its id
  lease keepalive <id> [--once] keep a lease alive (a keepalive every TTL/3) until Ctrl-C; --once:
                                one keepalive (exit 1 when the lease is gone)
  lease revoke <id>             revoke a lease: its keys are deleted (exit 1 when it is gone)
  lease get <id>                a lease's TTL, what is left of it, its keys (exit 1 when gone)
  lock <name> [--ttl S] [-- command args...]
                                take the lock <name> (waiting for it), print its fencing token, run
                                the command with SYNOD_FENCING_TOKEN and SYNOD_LOCK_KEY in its
                                environment and unlock when it ends (its exit status is ours); no
                                command: hold the lock until Ctrl-C. The lock lost meanwhile: the
                                command gets SIGTERM, exit 1. --ttl: its lease's TTL (default 10)
  elect <name> <value> [--ttl S]
                                campaign to lead <name> with <value>; print when elected and lead
                                until Ctrl-C (exit 1 if the leadership is lost)
  elect --listen <name>         the leader of <name> now, then each change, until Ctrl-C
  status                        the cluster: protocol, leader, every replica
  member list                   the replicated membership: each member's role and progress
  member add <id> [--learner]   add a replica (a voter by default: it joins as a learner and is
                                promoted once caught up; --learner: it stays one)
  member promote|demote|remove <id>
                                change one member (exit 1 when refused: a change in flight, a
                                learner behind, the last voter)
  leader transfer <id>          hand leadership to a voter
  ledger verify                 every replica's hash chain rechecked from its storage, heads
                                compared (exit 1 when not intact or not agreeing)
  admin <action> <node>         ${ADMIN_ACTIONS.join(' | ')}; --hard with kill,
                                --behavior B with byzantine

  --endpoints URL,...   gateways, tried in turn (default $SYNOD_ENDPOINTS, else http://127.0.0.1:3000)
  --token T             the admin bearer token (default $SYNOD_TOKEN)
  --timeout S           give up after S seconds of retries (default 30)
  --output text|json    text (default): key = value lines; json: the API's answers
  -h, --help            this text`;

class Usage extends Error {}

interface Parsed {
  command: string;
  args: string[];
  flags: {
    endpoints: string[];
    token?: string;
    timeoutMs: number;
    output: 'text' | 'json';
    stale: boolean;
    absent: boolean;
    hard: boolean;
    limit?: number;
    behavior?: string;
    rev?: number;
    prefix?: string;
    key?: string;
    lease?: string;
    once: boolean;
    listen: boolean;
    learner: boolean;
    ttl: number;
  };
}

function parse(argv: string[]): Parsed | 'help' {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        endpoints: { type: 'string' },
        token: { type: 'string' },
        timeout: { type: 'string' },
        output: { type: 'string' },
        stale: { type: 'boolean' },
        absent: { type: 'boolean' },
        hard: { type: 'boolean' },
        limit: { type: 'string' },
        behavior: { type: 'string' },
        rev: { type: 'string' },
        prefix: { type: 'string' },
        key: { type: 'string' },
        lease: { type: 'string' },
        once: { type: 'boolean' },
        listen: { type: 'boolean' },
        learner: { type: 'boolean' },
        ttl: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new Usage((err as Error).message.split('\n')[0]);
  }
  if (values.help === true) return 'help';
  const [command, ...args] = positionals;
  if (command === undefined) throw new Usage('a command is needed');
  const output = (values.output as string | undefined) ?? 'text';
  if (output !== 'text' && output !== 'json') throw new Usage(`--output must be text or json, got "${output}"`);
  const limitText = values.limit as string | undefined;
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) throw new Usage(`--limit takes an integer >= 1, got "${limitText}"`);
  const timeoutText = (values.timeout as string | undefined) ?? '30';
  const timeoutS = Number(timeoutText);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new Usage(`--timeout takes a number of seconds > 0, got "${timeoutText}"`);
  const endpoints = ((values.endpoints as string | undefined) ?? process.env.SYNOD_ENDPOINTS ?? 'http://127.0.0.1:3000')
    .split(',')
    .map((e) => e.trim().replace(/\/+$/, ''))
    .filter((e) => e !== '');
  if (endpoints.length === 0) throw new Usage('--endpoints names no gateway');
  return {
    command,
    args,
    flags: {
      endpoints,
      token: (values.token as string | undefined) ?? process.env.SYNOD_TOKEN,
      timeoutMs: timeoutS * 1000,
      output,
      stale: values.stale === true,
      absent: values.absent === true,
      hard: values.hard === true,
      limit,
      behavior: values.behavior as string | undefined,
      rev: values.rev === undefined ? undefined : revision(values.rev as string, '--rev'),
      prefix: values.prefix as string | undefined,
      key: values.key as string | undefined,
      lease: values.lease as string | undefined,
      once: values.once === true,
      listen: values.listen === true,
      learner: values.learner === true,
      ttl: values.ttl === undefined ? 10 : seconds(values.ttl as string, '--ttl'),
    },
  };
}

/** A TTL: whole seconds from 1 (the server's rule). */
function seconds(text: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < 1) throw new Usage(`${what} takes a number of seconds (an integer >= 1), got "${text}"`);
  return n;
}

function revision(text: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new Usage(`${what} takes a revision (an integer >= 0), got "${text}"`);
  return n;
}

/** The JSON body of `txn`, from a file or stdin (`-`). */
function readTxn(file: string): TxnRequest {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new Usage(`cannot read ${file === '-' ? 'stdin' : file}: ${(err as Error).message}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new Usage(`${file === '-' ? 'stdin' : file} is not JSON: ${(err as Error).message}`);
  }
  // The shape is the server's to check (400 naming the field); an object is all it needs here.
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Usage('txn takes a JSON object: {"compare":[…],"success":[…],"failure":[…]}');
  return body as TxnRequest;
}

/** A value as text: a string as it is, any other JSON value as JSON. */
const valueText = (v: JsonValue | null): string => (typeof v === 'string' ? v : JSON.stringify(v));

const itemText = (i: Item<JsonValue>): string =>
  `${i.key} = ${valueText(i.value)}${i.lease === undefined ? '' : ` [lease ${i.lease}]`} (createRevision ${i.createRevision}, modRevision ${i.modRevision}, version ${i.version})`;

/** One transaction result as text lines. */
function txnResultText(r: TxnOpResult): string[] {
  switch (r.op) {
    case 'put':
      return [`put ${r.key} (revision ${r.revision})`];
    case 'delete':
      return [r.deleted ? `delete ${r.key} (revision ${r.revision})` : `delete ${r.key}: not found`];
    case 'get':
      return [r.item === null ? `get ${r.key}: not found` : `get ${itemText(r.item)}`];
    case 'range':
      return [`range ${r.prefix}: ${r.items.length} key${r.items.length === 1 ? '' : 's'}`, ...r.items.map((i) => `  ${i.key} = ${valueText(i.value)}`)];
    default:
      return [JSON.stringify(r)]; // an op of a later server
  }
}

function arity(p: Parsed, n: number, what: string): string[] {
  if (p.args.length !== n) throw new Usage(`${p.command} takes ${what}`);
  return p.args;
}

/** Runs one command; returns the exit status. */
async function run(p: Parsed, out: (line: string) => void): Promise<number> {
  const client = new SynodClient({ endpoints: p.flags.endpoints, token: p.flags.token, deadlineMs: p.flags.timeoutMs });
  const json = p.flags.output === 'json';
  const show = (answer: unknown, text: string): void => out(json ? JSON.stringify(answer) : text);
  switch (p.command) {
    case 'put': {
      const [key, value] = arity(p, 2, '<key> <value>');
      const r = await client.put(key, value, { lease: p.flags.lease });
      show(r, `OK (revision ${r.revision})`);
      return 0;
    }
    case 'get': {
      const [key] = arity(p, 1, '<key>');
      const item = await client.get<JsonValue>(key, { consistency: p.flags.stale ? 'stale' : 'linearizable', revision: p.flags.rev });
      if (item === null) {
        show(null, `${key}: not found${p.flags.rev === undefined ? '' : ` at revision ${p.flags.rev}`}`);
        return 1;
      }
      show(item, itemText(item));
      return 0;
    }
    case 'del': {
      const [key] = arity(p, 1, '<key>');
      const r = await client.delete(key);
      show(r, r.deleted ? `deleted (revision ${r.revision})` : 'not found: nothing to delete');
      return 0;
    }
    case 'cas': {
      const [key, ...rest] = p.args;
      if (key === undefined || rest.length !== (p.flags.absent ? 1 : 2)) throw new Usage('cas takes <key> <expected> <value>, or --absent <key> <value>');
      const [expected, value] = p.flags.absent ? [null, rest[0]] : [rest[0], rest[1]];
      const r = await client.cas(key, expected, value);
      show(r, r.succeeded ? `OK (revision ${r.revision})` : `not swapped: the value is ${r.value === null ? 'absent' : JSON.stringify(r.value)}`);
      return r.succeeded ? 0 : 1;
    }
    case 'range': {
      const [prefix] = arity(p, 1, '<prefix>');
      let n = 0;
      for await (const item of client.range<JsonValue>(prefix)) {
        show(item, `${item.key} = ${valueText(item.value)}`);
        if (p.flags.limit !== undefined && ++n >= p.flags.limit) break;
      }
      return 0;
    }
    case 'txn': {
      const [file] = arity(p, 1, '<file.json>, or - for stdin');
      const r = await client.txnRaw(readTxn(file));
      if (json) out(JSON.stringify(r));
      else {
        out(`${r.succeeded ? 'succeeded' : 'failed: the failure branch ran'} (revision ${r.revision})`);
        for (const line of (r.results ?? []).flatMap(txnResultText)) out(line);
      }
      return r.succeeded ? 0 : 1;
    }
    case 'compact': {
      const [rev] = arity(p, 1, '<revision>');
      const r = await client.compact(revision(rev, 'compact'));
      show(r, `OK (compactRevision ${r.compactRevision}, revision ${r.revision})`);
      return 0;
    }
    case 'watch': {
      arity(p, 0, '--prefix P or --key K, no arguments');
      const { prefix, key } = p.flags;
      if ((prefix === undefined) === (key === undefined)) throw new Usage('watch takes --prefix P or --key K (one of them)');
      const events = client.watch(prefix !== undefined ? { prefix } : { key: key! }, { fromRevision: p.flags.rev });
      // Ctrl-C ends the watch (closing the stream), not the process mid-line: exit 0 after.
      const stop = (): void => void events.return?.();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      for await (const e of events) out(JSON.stringify(e)); // JSON lines whatever --output says: a stream to pipe
      return 0;
    }
    case 'lease':
      return lease(p, client, show);
    case 'lock':
      return lockCommand(p, client, show);
    case 'elect':
      return elect(p, client, show);
    case 'status': {
      arity(p, 0, 'no arguments');
      const s = await client.cluster();
      if (json) out(JSON.stringify(s));
      else {
        out(`protocol ${String(s.protocol)}, leader ${String(s.leader ?? s.primary ?? 'none')}`);
        for (const n of (s.nodes as Array<Record<string, unknown>>) ?? []) {
          out(
            `  ${String(n.id)}: ${n.alive ? 'alive' : 'dead'}${n.isolated ? ', isolated' : ''}, role ${String(n.role ?? '-')}, applied ${String(n.appliedIndex ?? '-')}`,
          );
        }
      }
      return 0;
    }
    case 'member':
      return member(p, client, show, out);
    case 'leader': {
      const [sub, to] = arity(p, 2, 'transfer <id>');
      if (sub !== 'transfer') throw new Usage(`unknown leader command "${sub}" (transfer)`);
      const r = await client.transferLeadership(to);
      show(r, `leader ${String(r.leader)} (was ${String(r.from)})`);
      return 0;
    }
    case 'ledger': {
      const [sub] = arity(p, 1, 'verify');
      if (sub !== 'verify') throw new Usage(`unknown ledger command "${sub}" (verify)`);
      const r = await client.verifyLedger();
      show(
        r,
        `ledger ${r.ok ? 'intact and agreeing' : 'NOT verified'} on ${String((r.replicas as unknown[] | undefined)?.length ?? 0)} replicas at index ${String(r.commonIndex)}`,
      );
      return r.ok ? 0 : 1;
    }
    case 'admin': {
      const [action, node] = arity(p, 2, `<action> <node> (action: ${ADMIN_ACTIONS.join(', ')})`);
      if (!(ADMIN_ACTIONS as readonly string[]).includes(action)) throw new Usage(`unknown admin action "${action}" (${ADMIN_ACTIONS.join(', ')})`);
      const r = await client.admin(node, action as AdminAction, { hard: p.flags.hard, behavior: p.flags.behavior });
      show(r, `${action} ${node}: OK`);
      return 0;
    }
    default:
      throw new Usage(`unknown command "${p.command}"`);
  }
}

type Show = (answer: unknown, text: string) => void;

/** An AbortSignal that Ctrl-C (SIGINT) or SIGTERM aborts, instead of ending the process: the command then lets go properly. */
function interruption(): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const abort = (): void => ac.abort(new Error('interrupted'));
  process.on('SIGINT', abort);
  process.on('SIGTERM', abort);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', abort);
      process.off('SIGTERM', abort);
    },
  };
}

const aborted = (signal: AbortSignal): Promise<void> =>
  new Promise((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));

async function member(p: Parsed, client: SynodClient, show: Show, out: (line: string) => void): Promise<number> {
  const [sub, ...rest] = p.args;
  if (sub === 'list') {
    if (rest.length !== 0) throw new Usage('member list takes no arguments');
    const r = await client.members();
    show(r, `configuration at index ${r.configIndex}${r.committed ? '' : ' (a change in flight)'}, leader ${r.leader ?? 'none'}`);
    if (p.flags.output === 'text') {
      for (const m of r.members)
        out(`  ${m.id}: ${m.role}${m.leader ? ' (leader)' : ''}, ${m.alive ? 'alive' : 'dead'}, applied ${m.appliedIndex}, match ${m.matchIndex ?? '-'}`);
    }
    return 0;
  }
  if (sub !== 'add' && sub !== 'promote' && sub !== 'demote' && sub !== 'remove')
    throw new Usage(`unknown member command "${sub ?? ''}" (list, add, promote, demote, remove)`);
  if (rest.length !== 1) throw new Usage(`member ${sub} takes <id>`);
  const r = await client.member(sub, rest[0], p.flags.learner ? 'learner' : 'voter');
  show(r, `${sub} ${r.id}: ${r.role}`);
  return 0;
}

async function lease(p: Parsed, client: SynodClient, show: Show): Promise<number> {
  const [sub, ...rest] = p.args;
  const one = (what: string): string => {
    if (rest.length !== 1) throw new Usage(`lease ${sub} takes ${what}`);
    return rest[0];
  };
  const notFound = (id: string): number => {
    show(null, `lease ${id}: not found (never granted, expired or revoked)`);
    return 1;
  };
  const kept = (r: Lease): void => show(r, `lease ${r.id} kept alive (TTL ${r.ttlSeconds} s)`);
  switch (sub) {
    case 'grant': {
      const r = await client.leases.grant(seconds(one('<ttl> (seconds)'), 'lease grant'));
      show(r, `lease ${r.id} granted (TTL ${r.ttlSeconds} s)`);
      return 0;
    }
    case 'keepalive': {
      const id = one('<id>');
      if (p.flags.once) {
        const r = await client.leases.keepalive(id);
        if (r === null) return notFound(id);
        kept(r);
        return 0;
      }
      const stop = interruption();
      try {
        const handle = await client.leases.keep(id, { signal: stop.signal, onKeepalive: kept });
        if (handle === null) return notFound(id);
        show({ id: handle.id, ttlSeconds: handle.ttlSeconds }, `lease ${handle.id} kept alive (TTL ${handle.ttlSeconds} s)`);
        const lost = await Promise.race([handle.lost, aborted(stop.signal).then(() => null)]);
        handle.close();
        if (lost === null) return 0;
        process.stderr.write(`synodctl: ${lost.message}\n`);
        return 1;
      } catch (err) {
        if (stop.signal.aborted) return 0;
        throw err;
      } finally {
        stop.dispose();
      }
    }
    case 'revoke': {
      const id = one('<id>');
      const r = await client.leases.revoke(id);
      if (r === null) return notFound(id);
      show(
        r,
        `lease ${id} revoked (revision ${r.revision}), ${r.deleted.length} key${r.deleted.length === 1 ? '' : 's'} deleted${r.deleted.map((k) => `\n  ${k}`).join('')}`,
      );
      return 0;
    }
    case 'get': {
      const id = one('<id>');
      const r = await client.leases.get(id);
      if (r === null) return notFound(id);
      const left = r.remainingSeconds === undefined ? '' : `, ${r.remainingSeconds} s left`;
      show(r, `lease ${r.id}: TTL ${r.ttlSeconds} s${left}, renewed at revision ${r.renewedAt}, keys: ${r.keys.length === 0 ? 'none' : r.keys.join(' ')}`);
      return 0;
    }
    default:
      throw new Usage(sub === undefined ? 'lease takes grant, keepalive, revoke or get' : `unknown lease command "${sub}" (grant, keepalive, revoke, get)`);
  }
}

/**
 * lock <name> [-- command…]: the lock held while the command runs. Its fencing token goes to the
 * command (SYNOD_FENCING_TOKEN) so that it can hand it to what it writes to: the lock alone cannot
 * stop a command that outlives it (the SIGTERM on a lost lock comes after the fact).
 */
async function lockCommand(p: Parsed, client: SynodClient, show: Show): Promise<number> {
  const [name, ...command] = p.args;
  if (name === undefined) throw new Usage('lock takes <name> [-- command args...]');
  const stop = interruption();
  try {
    let lock;
    try {
      lock = await client.lock(name, { ttlSeconds: p.flags.ttl, signal: stop.signal });
    } catch (err) {
      if (!stop.signal.aborted) throw err;
      process.stderr.write(`synodctl: interrupted: ${name} was not locked\n`);
      return 1;
    }
    show(
      { name, key: lock.key, fencingToken: lock.fencingToken, lease: lock.lease.id },
      `locked ${name} (key ${lock.key}, fencing token ${lock.fencingToken})`,
    );
    const lostNow = (err: SynodLeaseLostError): number => {
      process.stderr.write(`synodctl: lock ${name} lost: ${err.message}\n`);
      return 1;
    };
    if (command.length === 0) {
      const lost = await Promise.race([lock.lost, aborted(stop.signal).then(() => null)]);
      if (lost !== null) {
        await lock.unlock().catch(() => undefined);
        return lostNow(lost);
      }
      await lock.unlock();
      return 0;
    }
    const child = spawn(command[0], command.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, SYNOD_FENCING_TOKEN: String(lock.fencingToken), SYNOD_LOCK_KEY: lock.key, SYNOD_LEASE_ID: lock.lease.id },
    });
    const exited = new Promise<number>((resolve) => {
      child.once('error', (err) => {
        process.stderr.write(`synodctl: ${command[0]}: ${err.message}\n`);
        resolve(127);
      });
      child.once('exit', (code, sig) => resolve(code ?? 128 + (sig === null ? 0 : (constants.signals[sig] ?? 0))));
    });
    // Ctrl-C or SIGTERM to us: the command's to end (a terminal's Ctrl-C reaches it too); we unlock after.
    const forward = (): void => void child.kill('SIGTERM');
    stop.signal.addEventListener('abort', forward);
    const first = await Promise.race([exited.then((code) => ({ code })), lock.lost.then((lost) => ({ lost }))]);
    if ('lost' in first) {
      child.kill('SIGTERM');
      await exited;
      await lock.unlock().catch(() => undefined);
      return lostNow(first.lost);
    }
    await lock.unlock();
    return first.code;
  } finally {
    stop.dispose();
  }
}

async function elect(p: Parsed, client: SynodClient, show: Show): Promise<number> {
  const stop = interruption();
  try {
    if (p.flags.listen) {
      const [name] = arity(p, 1, '--listen <name>');
      try {
        for await (const l of client.observe<JsonValue>(name, { signal: stop.signal })) {
          show(l, l === null ? `${name}: no leader` : `${name}: leader ${valueText(l.value)} (key ${l.key}, revision ${l.revision})`);
        }
      } catch (err) {
        if (!stop.signal.aborted) throw err;
      }
      return 0;
    }
    const [name, value] = arity(p, 2, '<name> <value>, or --listen <name>');
    let leadership;
    try {
      leadership = await client.campaign(name, value, { ttlSeconds: p.flags.ttl, signal: stop.signal });
    } catch (err) {
      if (!stop.signal.aborted) throw err;
      process.stderr.write(`synodctl: interrupted: not elected\n`);
      return 1;
    }
    show(
      { name, key: leadership.key, revision: leadership.revision, lease: leadership.lease.id, value },
      `elected: ${name} = ${value} (key ${leadership.key}, revision ${leadership.revision})`,
    );
    const lost = await Promise.race([leadership.lost, aborted(stop.signal).then(() => null)]);
    if (lost !== null) {
      await leadership.resign().catch(() => undefined);
      process.stderr.write(`synodctl: leadership of ${name} lost: ${lost.message}\n`);
      return 1;
    }
    await leadership.resign();
    return 0;
  } finally {
    stop.dispose();
  }
}

async function main(): Promise<number> {
  // `synodctl watch … | head -1`: the reader gone is the end of the output, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
  let parsed: Parsed | 'help';
  try {
    parsed = parse(process.argv.slice(2));
    if (parsed === 'help') {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    return await run(parsed, (line) => process.stdout.write(`${line}\n`));
  } catch (err) {
    if (err instanceof Usage) {
      process.stderr.write(`synodctl: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof SynodError) {
      const detail =
        err instanceof SynodCompactedError ? ` (compactRevision ${err.compactRevision})` : err.problem?.field ? ` (field ${err.problem.field})` : '';
      process.stderr.write(`synodctl: ${err.status}: ${err.message}${detail}\n`);
      return 1;
    }
    if (err instanceof SynodUnavailableError) {
      process.stderr.write(`synodctl: ${err.message}${err.unknownOutcome ? ' (a write may have been applied)' : ''}\n`);
      return 3;
    }
    throw err;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`synodctl: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(4);
  },
);
