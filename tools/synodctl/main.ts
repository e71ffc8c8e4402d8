import { parseArgs } from 'node:util';
import { ADMIN_ACTIONS, SynodClient, SynodError, SynodUnavailableError, type AdminAction } from '@app/client';

/**
 * synodctl: the cluster from a shell, as etcdctl is for etcd, through the SDK (so with its
 * failover and retries). Exit status: 0 done, 1 the cluster said no (or a get found nothing), 2 bad
 * usage, 3 no gateway could serve.
 */
const USAGE = `usage: synodctl [--endpoints URL,...] [--token T] [--output text|json] <command> ...

  put <key> <value>             write a key (an Idempotency-Key of its own, retried safely)
  get <key> [--stale]           read a key (exit 1 when it does not exist)
  del <key>                     delete a key
  cas <key> <expected> <value>  write if the value is <expected> now; --absent: if the key is absent
  range <prefix> [--limit N]    every key under a prefix, in key order, page by page
  status                        the cluster: protocol, leader, every replica
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
    },
  };
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
      const r = await client.put(key, value);
      show(r, `OK (revision ${r.revision})`);
      return 0;
    }
    case 'get': {
      const [key] = arity(p, 1, '<key>');
      const item = await client.get(key, { consistency: p.flags.stale ? 'stale' : 'linearizable' });
      if (item === null) {
        show(null, `${key}: not found`);
        return 1;
      }
      show(item, `${item.key} = ${item.value} (createRevision ${item.createRevision}, modRevision ${item.modRevision}, version ${item.version})`);
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
      for await (const item of client.range(prefix)) {
        show(item, `${item.key} = ${item.value}`);
        if (p.flags.limit !== undefined && ++n >= p.flags.limit) break;
      }
      return 0;
    }
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

async function main(): Promise<number> {
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
      process.stderr.write(`synodctl: ${err.status}: ${err.message}${err.problem?.field ? ` (field ${err.problem.field})` : ''}\n`);
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
