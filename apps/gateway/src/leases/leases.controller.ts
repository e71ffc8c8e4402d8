import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiConsensusErrors, ApiIdempotencyKey, ApiProblem } from '../http/api-docs';
import { ApiError } from '../http/api-error';
import { requestFingerprint } from '../http/fingerprint';
import { parseIdempotencyKey } from '../http/idempotency-key';
import { parseOrBadField } from '../http/validation';
import { LeaseIdSchema } from '../kv/kv.dto';
import { KvService } from '../kv/kv.service';
import { GrantBodyDto, LeaseDto, LeaseInfoDto, RevokeResultDto } from './leases.dto';

const leasePath = (id: string): string => `/v1/leases/${encodeURIComponent(id)}`;
const noLease = (id: string): ApiError => ApiError.notFound(`lease ${JSON.stringify(id)} does not exist (never granted, expired or revoked)`, { lease: id });

/**
 * Leases (etcd's): keys put with a lease go when it expires or is revoked. Expiry is decided by the
 * replica(s) whose clock runs it (the Raft leader; f+1 PBFT replicas) and goes through the log.
 */
@ApiTags('leases')
@Controller('v1/leases')
export class LeasesController {
  constructor(private readonly kv: KvService) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({ summary: 'Grant a lease of ttlSeconds; keep it with keepalives, attach keys with PUT {"value","lease"}' })
  @ApiIdempotencyKey()
  @ApiCreatedResponse({ type: LeaseDto })
  @ApiConsensusErrors()
  async grant(@Body() body: GrantBodyDto, @Headers('idempotency-key') idem: unknown): Promise<LeaseDto> {
    const r = await this.kv.write(
      { op: 'lease-grant', ttlSeconds: body.ttlSeconds },
      parseIdempotencyKey(idem),
      requestFingerprint('POST', '/v1/leases', body),
    );
    return { id: r.id, ttlSeconds: r.ttlSeconds };
  }

  @Post(':id/keepalive')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Renew a lease: it lives ttlSeconds from when this request was first sent (a retry with the same Idempotency-Key gets the first answer, even once the lease is gone)',
  })
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: LeaseDto })
  @ApiProblem(404, 'No such lease (it expired or was revoked: its keys are gone)')
  @ApiConsensusErrors()
  async keepalive(@Param('id') rawId: string, @Headers('idempotency-key') idem: unknown): Promise<LeaseDto> {
    const id = parseOrBadField(LeaseIdSchema, rawId, 'id');
    const r = await this.kv.write({ op: 'lease-keepalive', id }, parseIdempotencyKey(idem), requestFingerprint('POST', `${leasePath(id)}/keepalive`));
    if (!r.found) throw noLease(id);
    return { id: r.id, ttlSeconds: r.ttlSeconds };
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke a lease: its keys are deleted, all in one revision' })
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: RevokeResultDto })
  @ApiProblem(404, 'No such lease')
  @ApiConsensusErrors()
  async revoke(@Param('id') rawId: string, @Headers('idempotency-key') idem: unknown): Promise<RevokeResultDto> {
    const id = parseOrBadField(LeaseIdSchema, rawId, 'id');
    const r = await this.kv.write({ op: 'lease-revoke', id }, parseIdempotencyKey(idem), requestFingerprint('DELETE', leasePath(id)));
    if (!r.found) throw noLease(id);
    return { id: r.id, deleted: r.deleted, revision: r.revision };
  }

  @Get(':id')
  @ApiOperation({ summary: 'A lease: its TTL, what is left of it, its keys' })
  @ApiOkResponse({ type: LeaseInfoDto })
  @ApiProblem(404, 'No such lease')
  @ApiConsensusErrors()
  async get(@Param('id') rawId: string): Promise<LeaseInfoDto> {
    const id = parseOrBadField(LeaseIdSchema, rawId, 'id');
    const lease = await this.kv.lease(id);
    if (lease === null) throw noLease(id);
    const { remainingMs, ...rest } = lease;
    return { ...rest, ...(remainingMs === undefined ? {} : { remainingSeconds: remainingMs / 1000 }) };
  }
}
