// The named throttlers of ThrottlerModule and what each one refuses with. Named throttlers apply to every route
// the guard runs on, so every route says which of them it is subject to (`ThrottleOnly`), skipping the rest.
//
// - `signup-email`: POST /user, per e-mail address (trimmed and lower-cased), USER_SIGNUP_RATE_LIMIT_EMAIL per
//   USER_SIGNUP_RATE_LIMIT_EMAIL_WINDOW_MS;
// - `signup-ip`: POST /user, per client address, USER_SIGNUP_RATE_LIMIT_IP per USER_SIGNUP_RATE_LIMIT_IP_WINDOW_MS;
// - `lockout`: POST /authenticate, per client address, every request: CREDITSAFE_LOCKOUT_THRESHOLD per
//   CREDITSAFE_LOCKOUT_WINDOW_MS, then blocked for `blockDuration`, a full window from the refused request.
//
// Both signup throttlers are skipped for an admin. Their order in the list is the order the guard applies them
// (SIGNUP_LIMITER_ORDER); a request the first refuses never reaches, so never counts toward, the second. ttl
// and blockDuration are milliseconds (since @nestjs/throttler 5).

import { ExecutionContext } from '@nestjs/common';
import { SkipThrottle, ThrottlerModuleOptions, ThrottlerOptions } from '@nestjs/throttler';
import type { Request } from 'express';

import { AppConfig } from '../config';
import { normalizeEmail } from '../appmixer/users.store';
import type { Caller } from '../appmixer/auth.guard';

export const SIGNUP_EMAIL = 'signup-email';
export const SIGNUP_IP = 'signup-ip';
export const LOCKOUT = 'lockout';
const THROTTLERS = [SIGNUP_EMAIL, SIGNUP_IP, LOCKOUT] as const;
type ThrottlerName = (typeof THROTTLERS)[number];

export const LIMIT_MESSAGES: Record<string, string> = {
  [SIGNUP_EMAIL]: 'Too many signup attempts for this email address. Please try again later.',
  [SIGNUP_IP]: 'Too many signup attempts from your IP address. Please try again later.',
  [LOCKOUT]: 'Too many requests to the authenticate endpoint. Please try again later.',
};

/** `@SkipThrottle` for every named throttler but `names`. */
export const ThrottleOnly = (...names: ThrottlerName[]) =>
  SkipThrottle(Object.fromEntries(THROTTLERS.filter((name) => !names.includes(name)).map((name) => [name, true])));

const requestOf = (context: ExecutionContext) => context.switchToHttp().getRequest<Request & { caller?: Caller }>();

/** An authenticated admin creating users is never limited. */
const callerIsAdmin = (context: ExecutionContext) => Boolean(requestOf(context).caller?.scope.includes('admin'));

/** The first X-Forwarded-For entry, whoever wrote it, else req.ip (the forwarded-for-tracker variant). */
function firstForwardedFor(req: Record<string, any>): string {
  const header = req.headers['x-forwarded-for'];
  const first = typeof header === 'string' ? header.split(',')[0].trim() : '';
  return first || req.ip;
}

export function throttlerOptions(config: AppConfig): ThrottlerModuleOptions {
  const { signup, creditsafe, fault } = config;

  const email: ThrottlerOptions = {
    name: SIGNUP_EMAIL,
    ttl: signup.emailWindowMs,
    limit: signup.emailLimit,
    // Guards run before pipes: the body here is the raw JSON, not the validated DTO. An attempt without an
    // e-mail string has no address to count (validation refuses it next).
    skipIf: (context) => callerIsAdmin(context) || typeof requestOf(context).body?.email !== 'string',
    getTracker: (req) =>
      fault === 'tracker-before-pipes'
        ? // As the DTO would have it after the ValidationPipe (trimmed, lower-cased), but the pipe has not run yet.
          req.body.email
        : normalizeEmail(req.body.email),
  };

  const ip: ThrottlerOptions = {
    name: SIGNUP_IP,
    ttl: signup.ipWindowMs,
    limit: signup.ipLimit,
    // admin-not-skipped: the IP throttler has no skipIf, so an admin's signups count like anyone's.
    skipIf: fault === 'admin-not-skipped' ? undefined : callerIsAdmin,
    // The default tracker (the guard's getTracker, req.ip) unless the variant reads X-Forwarded-For itself.
    ...(fault === 'forwarded-for-tracker' ? { getTracker: firstForwardedFor } : {}),
  };

  const lockout: ThrottlerOptions = {
    name: LOCKOUT,
    ttl: creditsafe.lockoutWindowMs,
    limit: creditsafe.lockoutThreshold,
    // A full window from the request that crossed the threshold. no-block-duration: `blockDuration: 0`, so the
    // throttler only refuses while its window holds the threshold's worth, and lets requests in again as the
    // oldest ones age out, before a full window has passed since the lockout began.
    blockDuration: fault === 'no-block-duration' ? 0 : creditsafe.lockoutWindowMs,
  };

  const signupThrottlers = signup.order === 'ip-first' ? [ip, email] : [email, ip];
  return { throttlers: [...signupThrottlers, lockout] };
}
