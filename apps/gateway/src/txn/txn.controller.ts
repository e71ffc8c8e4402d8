import { Body, Controller, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { TxnCommand, TxnOp, TxnOpResult } from '@app/consensus/kv';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { ApiConsensusErrors, ApiIdempotencyKey, ApiProblem } from '../http/api-docs';
import { ApiError } from '../http/api-error';
import { PROBLEMS } from '../http/problem';
import { requestFingerprint } from '../http/fingerprint';
import { parseIdempotencyKey } from '../http/idempotency-key';
import { checkBytes, checkCommandBytes } from '../kv/kv-limits';
import { presentItem } from '../kv/kv-responses';
import { KvService } from '../kv/kv.service';
import { TxnBodyDto, TxnResultDto } from './txn.dto';

function presentTxnOp(r: TxnOpResult): TxnResultDto['results'][number] {
  if (r.op === 'get') return { ...r, item: r.item === null ? null : presentItem(r.item) };
  if (r.op === 'range') return { ...r, items: r.items.map(presentItem) };
  return r;
}

@ApiTags('kv')
@Controller('v1/txn')
export class TxnController {
  constructor(
    private readonly kv: KvService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'A transaction: if every compare holds run the success ops, else the failure ops — atomically, at one revision' })
  @ApiIdempotencyKey()
  @ApiOkResponse({ type: TxnResultDto })
  @ApiProblem(400, 'Bad transaction; `field` names it, e.g. success[2].key (a branch may write a key once)')
  @ApiProblem(413, 'More than MAX_TXN_OPS compares and ops, a key or value over its limit, or body over BODY_LIMIT')
  @ApiConsensusErrors()
  async txn(@Body() body: TxnBodyDto, @Headers('idempotency-key') idem: unknown): Promise<TxnResultDto> {
    const idempotencyKey = parseIdempotencyKey(idem);
    const cmd: TxnCommand = { op: 'txn', compare: body.compare, success: body.success as TxnOp[], failure: body.failure as TxnOp[] };
    this.checkLimits(cmd);
    const r = await this.kv.write(cmd, idempotencyKey, requestFingerprint('POST', '/v1/txn', body));
    return { succeeded: r.succeeded, results: r.results.map(presentTxnOp), revision: r.revision };
  }

  private checkLimits(cmd: TxnCommand): void {
    const ops = cmd.compare.length + cmd.success.length + cmd.failure.length;
    if (ops > this.config.maxTxnOps) {
      throw new ApiError(
        413,
        {
          error: `a transaction holds at most ${this.config.maxTxnOps} compares and ops (MAX_TXN_OPS), got ${ops}`,
          field: 'body',
          limit: this.config.maxTxnOps,
        },
        {},
        PROBLEMS.tooLarge,
      );
    }
    const { maxKeyBytes, maxValueBytes } = this.kv.limits;
    cmd.compare.forEach((c, i) => {
      checkBytes(c.key, `compare[${i}].key`, maxKeyBytes);
      if (typeof c.value === 'string') checkBytes(c.value, `compare[${i}].value`, maxValueBytes);
    });
    for (const branch of ['success', 'failure'] as const) {
      cmd[branch].forEach((op, i) => {
        if (op.op === 'put' || op.op === 'delete') checkCommandBytes(op, this.kv.limits, `${branch}[${i}]`);
        else if (op.op === 'get') checkBytes(op.key, `${branch}[${i}].key`, maxKeyBytes);
        else checkBytes(op.prefix, `${branch}[${i}].prefix`, maxKeyBytes);
      });
    }
  }
}
