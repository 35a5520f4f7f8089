// Who a request comes from, for every limit: Express's `req.ip` (what ThrottlerGuard's default tracker reads),
// normalised by the throttler's own `normalizeIp` so an IPv4-mapped IPv6 peer is its IPv4 address. Express
// trusts no proxy here unless TRUST_FORWARDED_FOR=1, and then exactly one hop (`trust proxy` = 1): the last
// X-Forwarded-For entry, the one that proxy appended; earlier entries are the client's own words (main.ts).

import type { Request } from 'express';
import { normalizeIp } from '@nestjs/throttler';

export function clientAddress(req: Request | Record<string, any>): string {
  return normalizeIp(req.ip ?? req.socket?.remoteAddress ?? 'unknown');
}
