import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from '../http/express';
import { GATEWAY_CONFIG } from '../config/config.module';
import type { GatewayConfig } from '../config/config';
import { ApiError } from '../http/api-error';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** `Authorization: Bearer $ADMIN_TOKEN` when ADMIN_TOKEN is set; open otherwise. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.expected = config.adminToken === null ? null : digest(config.adminToken);
  }

  canActivate(ctx: ExecutionContext): boolean {
    if (this.expected === null) return true;
    const header = ctx.switchToHttp().getRequest<Request>().headers.authorization;
    const m = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
    // Compare digests: equal length, and the time taken says nothing about the token.
    if (m && timingSafeEqual(digest(m[1]), this.expected)) return true;
    throw new ApiError(401, { error: 'admin calls need the header Authorization: Bearer <ADMIN_TOKEN>' }, { 'WWW-Authenticate': 'Bearer' });
  }
}
