import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

export const DEFAULT_BLOCKS_LIMIT = 100;
export const MAX_BLOCKS_LIMIT = 1000;

const emptyAsAbsent = (v: unknown): unknown => (v === '' ? undefined : v);
const intParam = (min: number, max: number, fallback: number, description: string) => {
  const bad = (iss: { input?: unknown }): string => `must be an integer from ${min} to ${max}, got ${JSON.stringify(iss.input)}`;
  return z
    .preprocess(
      emptyAsAbsent,
      z
        .string({ error: bad })
        .regex(/^\d{1,15}$/, { error: bad })
        .refine((s) => Number(s) >= min && Number(s) <= max, { error: bad })
        .optional(),
    )
    .transform((s) => (s === undefined ? fallback : Number(s)))
    .meta({ description, example: String(fallback) });
};

export class BlocksQueryDto extends createZodDto(
  z.object({
    from: intParam(1, Number.MAX_SAFE_INTEGER, 1, 'The first block (log index; PBFT: sequence number), default 1; 410 when compacted away'),
    limit: intParam(1, MAX_BLOCKS_LIMIT, DEFAULT_BLOCKS_LIMIT, `1 to ${MAX_BLOCKS_LIMIT}, default ${DEFAULT_BLOCKS_LIMIT}`),
  }),
) {}

export class LedgerHeadDto {
  @ApiProperty({ example: 42 }) index!: number;
  @ApiProperty({ description: 'hex SHA-256', example: 'ab12…' }) hash!: string;
}

export class LedgerRequestDto {
  @ApiProperty() client!: string;
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'Running count of executed requests' }) position!: number;
  @ApiProperty({ description: 'The result bytes, base64' }) result!: string;
}

export class LedgerBlockDto {
  @ApiProperty({ description: 'Raft: the log index; PBFT: the sequence number' }) index!: number;
  @ApiPropertyOptional({ description: "Raft: the entry's term" }) term?: number;
  @ApiPropertyOptional({ description: "Raft: the entry's type (normal, noop, ...)" }) type?: string;
  @ApiPropertyOptional({ type: String, nullable: true, description: "Raft: the entry's data, base64 (null for a noop)" }) data?: string | null;
  @ApiPropertyOptional({ description: "PBFT: the batch digest of the sequence number's commit certificate" }) digest?: string;
  @ApiPropertyOptional({ type: [LedgerRequestDto], description: 'PBFT: what the batch executed' }) requests?: LedgerRequestDto[];
  @ApiProperty({ description: 'The hash of the block before (64 zeros before block 1)' }) prevHash!: string;
  @ApiProperty({ description: 'SHA-256 over a domain tag, prevHash and the content (libs/consensus/src/ledger/block.ts)' }) hash!: string;
}

export class CheckpointVoteDto {
  @ApiProperty() from!: string;
  @ApiProperty() seq!: number;
  @ApiProperty() digest!: string;
  @ApiProperty({ description: 'Ed25519 signature over the CHECKPOINT message, base64' }) sig!: string;
}

export class CheckpointCertificateDto {
  @ApiProperty() seq!: number;
  @ApiProperty() stateDigest!: string;
  @ApiProperty({ description: 'The chain head at seq' }) head!: string;
  @ApiProperty({ description: 'SHA-256(tag, stateDigest, head): what 2f+1 replicas signed' }) digest!: string;
  @ApiProperty({ type: [CheckpointVoteDto] }) proof!: CheckpointVoteDto[];
}

export class LedgerBlocksDto {
  @ApiProperty({ enum: ['raft', 'pbft'] }) protocol!: string;
  @ApiProperty({ type: [LedgerBlockDto], description: 'Applied blocks from `from`, contiguous (Raft: from the leader; PBFT: those f+1 replicas agree on)' })
  blocks!: LedgerBlockDto[];
  @ApiProperty({ type: LedgerHeadDto, nullable: true, description: "Raft: the leader's head; PBFT: the last agreed block" }) head!: LedgerHeadDto | null;
  @ApiProperty({ description: 'Blocks at or below this index are compacted away (410)' }) compactedThrough!: number;
  @ApiPropertyOptional({ type: [CheckpointCertificateDto], description: 'PBFT: stable checkpoint certificates within the range' })
  certificates?: CheckpointCertificateDto[];
}

export class ReplicaLedgerDto {
  @ApiProperty({ example: 'n1' }) id!: string;
  @ApiProperty({ description: 'It answered' }) reachable!: boolean;
  @ApiProperty({ description: 'Not killed' }) alive!: boolean;
  @ApiProperty({ type: Boolean, nullable: true, description: 'Its chain recomputed from its stored log matches what it recorded when applying' }) intact!:
    boolean | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Its applied index when it checked' }) index!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Its head at index' }) head!: string | null;
  @ApiPropertyOptional({ description: 'The first stored block that does not hash as recorded' }) firstBadIndex?: number;
  @ApiPropertyOptional() reason?: string;
  @ApiProperty({ type: String, nullable: true, description: 'Its hash at commonIndex' }) hashAtCommon!: string | null;
}

export class LedgerVerifyDto {
  @ApiProperty({ description: 'Every replica answered, is alive, intact, and all agree at commonIndex' }) ok!: boolean;
  @ApiProperty({ enum: ['raft', 'pbft'] }) protocol!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'The lowest applied index of the live replicas' }) commonIndex!: number | null;
  @ApiProperty({ description: 'The live replicas have one hash at commonIndex' }) agree!: boolean;
  @ApiProperty({ type: [ReplicaLedgerDto] }) replicas!: ReplicaLedgerDto[];
}
