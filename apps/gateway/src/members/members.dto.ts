import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { jsonObject, orNull } from '../http/validation';

const memberId = z
  .string({ error: 'must be a node id (a string)' })
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a node id: 1-64 letters, digits, _ or -')
  .meta({ example: 'n4' });

/** POST /v1/admin/members: add a replica; a voter is added as a learner first and promoted once caught up. */
export class AddMemberDto extends createZodDto(
  jsonObject({
    id: memberId,
    role: z.enum(['learner', 'voter'], { error: (iss) => `must be "learner" or "voter", got ${JSON.stringify(iss.input) ?? 'nothing'}` }).default('learner'),
  }),
) {}

/** POST /v1/admin/leader/transfer. */
export class TransferDto extends createZodDto(jsonObject({ to: memberId })) {}

export class MemberDto extends createZodDto(
  z.object({
    id: z.string().meta({ example: 'n4' }),
    role: z.enum(['voter', 'learner']),
    alive: z.boolean(),
    leader: z.boolean().meta({ description: 'Whether it leads now' }),
    appliedIndex: z.number().int(),
    matchIndex: orNull(z.number().int(), 'integer').meta({ description: "The leader's matchIndex of it (null: not known, or it is the leader)" }),
    address: z
      .object({
        channel: z.string().meta({ example: 'synod:synod:n:n4', description: 'Its inbox channel on the bus' }),
        home: orNull(z.string(), 'string').meta({ example: 'redis://bus:***@127.0.0.1:6380', description: 'The Redis its inbox is on (credentials hidden)' }),
      })
      .meta({ description: 'Where it is reached, from the identity directory (NODES, BUS_URLS)' }),
    next: z
      .enum(['join', 'leave'])
      .optional()
      .meta({ description: 'PBFT: what the next reconfiguration does with it (a staged voter joins, a staged removal leaves)' }),
  }),
) {}

const pbftConfiguration = z.object({ epoch: z.number().int(), replicas: z.array(z.string()), since: z.number().int() });

export class MembersDto extends createZodDto(
  z.object({
    members: z.array(MemberDto.schema),
    leader: orNull(z.string(), 'string').meta({ description: 'The leader (PBFT: the primary) now, null when none is known' }),
    configIndex: z.number().int().meta({ description: 'Log index of the configuration entry (0: the initial configuration)' }),
    committed: z.boolean().meta({ description: 'false while a change is in flight' }),
    configuration: pbftConfiguration
      .optional()
      .meta({ description: 'PBFT: the configuration in force (configIndex is its epoch); a replica added by hand trusts it (PBFT_CONFIGURATION)' }),
    nextConfiguration: pbftConfiguration.nullable().optional().meta({ description: 'PBFT: a decided change, in force after checkpoint `since`' }),
    pending: z
      .object({
        join: z.array(z.string()),
        leave: z.array(z.string()),
        learners: z.array(z.string()),
        replicas: z.array(z.string()),
        rule: z.string().optional(),
      })
      .optional()
      .meta({ description: "PBFT: this gateway's staged plan (the next set is sent once it is 3f+1)" }),
  }),
) {}
