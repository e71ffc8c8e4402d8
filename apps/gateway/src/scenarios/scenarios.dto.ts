import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { jsonObject, orNull, typeName } from '../http/validation';
import { SCENARIO_ACTIONS } from './scenario';
import { MAX_SPEED, MIN_SPEED } from './plan';

const speedMessage = (iss: { input?: unknown }): string =>
  `must be a number from ${MIN_SPEED} to ${MAX_SPEED} (the factor dividing every offset), got ${typeof iss.input === 'number' ? iss.input : typeName(iss.input)}`;

/** `{"speed": k}` divides every offset by k (tests run a one-minute scenario in seconds); the body may be absent. */
export class StartRunBodyDto extends createZodDto(
  z.preprocess(
    (v) => (v === undefined || v === null ? {} : v),
    jsonObject({
      speed: z
        .number({ error: speedMessage })
        .min(MIN_SPEED, { error: speedMessage })
        .max(MAX_SPEED, { error: speedMessage })
        .default(1)
        .meta({ description: `Divides every offset (${MIN_SPEED}–${MAX_SPEED}); 1 = the documented timings`, example: 10 }),
    }),
  ),
) {}

export class ScenarioInfoDto extends createZodDto(
  z.object({
    name: z.string().meta({ example: 'kill-leader' }),
    title: z.string(),
    description: z.string(),
    protocols: z.array(z.enum(['raft', 'pbft'])),
    requires: z.array(z.enum(['supervisor'])).meta({ description: 'What the gateway needs beyond the replicas (supervisor: the launcher owns the processes)' }),
    applies: z.boolean().meta({ description: 'Whether it can run on this cluster (protocol and requirements)' }),
    durationMs: z.number().int().meta({ description: 'From start to the closing heal-all, at speed 1 (for rolling restarts: with this cluster’s members)' }),
    steps: z.array(z.string()).meta({ example: ['at 0 s, every 10 s ×6: kill the leader (as $victim)'] }),
  }),
) {}

const OutcomeSchema = z.object({
  action: z.enum(SCENARIO_ACTIONS),
  node: z.string(),
  peer: z.string().optional(),
  behavior: z.string().optional(),
  status: z.number().int().meta({ description: 'The HTTP status the admin route would have answered' }),
  result: z.unknown().optional(),
  problem: z.object({}).loose().optional().meta({ description: 'RFC 9457 problem of a failed call' }),
});

export class RunDto extends createZodDto(
  z.object({
    id: z.string(),
    scenario: z.string(),
    title: z.string(),
    protocol: z.enum(['raft', 'pbft']),
    speed: z.number(),
    state: z.enum(['running', 'cancelling', 'healing', 'done', 'failed', 'cancelled']).meta({
      description:
        'cancelling: cancelled, its end (heal-all) queued or under way; failed: the closing heal-all could not undo everything (see heal); steps that failed do not fail the run',
    }),
    startedAt: z.number().int().meta({ description: 'ms since the epoch' }),
    endsAt: z.number().int().meta({ description: 'When the closing heal-all is due' }),
    finishedAt: orNull(z.number().int(), 'integer'),
    stepCount: z.number().int(),
    steps: z.array(
      z.object({
        index: z.number().int(),
        at: z.number().int().meta({ description: 'ms from the start, at this run’s speed' }),
        action: z.enum(SCENARIO_ACTIONS),
        target: z.string().optional(),
        peer: z.string().optional(),
        behavior: z.string().optional(),
        text: z.string(),
        reads: z
          .record(z.string(), z.number().int())
          .optional()
          .meta({ description: 'For each $name it reads, the index of the step whose choice it acts on (it waits for that step to settle)' }),
        status: z.enum(['pending', 'running', 'done', 'failed', 'cancelled']),
        startedAt: z.number().int().optional(),
        finishedAt: z.number().int().optional(),
        nodes: z.array(z.string()).optional().meta({ description: 'The target as resolved when the step ran' }),
        outcomes: z.array(OutcomeSchema).optional(),
        error: z.string().optional(),
      }),
    ),
    heal: z.array(OutcomeSchema).meta({ description: 'The closing heal-all’s admin calls' }),
    summary: z.object({ steps: z.number(), done: z.number(), failed: z.number(), cancelled: z.number(), healFailed: z.number() }).nullable(),
  }),
) {}
