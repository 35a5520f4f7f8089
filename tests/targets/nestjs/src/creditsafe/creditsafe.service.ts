// Creditsafe Connect's credentials, its RS256 tokens (a key made at start, named by its kid; JwtService of the
// Creditsafe module) and the identical-invalid-request limit.
//
// Identical invalid requests: per client address and body (JSON compared regardless of key order and
// whitespace), CREDITSAFE_INVALID_LIMIT requests are answered 401 per CREDITSAFE_INVALID_WINDOW_MS; the next
// identical one is refused (429) for a full window. Only invalid requests count, which a guard cannot know
// (it runs before the credentials are checked), so they are counted here in the throttler's own storage
// (`@InjectThrottlerStorage()`), with the same hits, ttl and blockDuration as the named throttlers.

import { createHash, randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleInit, UnauthorizedException } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectThrottlerStorage, ThrottlerStorage } from '@nestjs/throttler';

import { TooManyRequestsException } from '../common/errors';
import { hashPassword, verifyPassword } from '../common/passwords';
import { APP_CONFIG, AppConfig } from '../config';
import { AuthenticateDto } from './dto';

export const IDENTICAL_INVALID = 'identical-invalid';
export const IDENTICAL_INVALID_MESSAGE = 'Too many identical invalid requests. Please try again later.';

/** The body as canonical JSON (keys sorted at every level), so key order and whitespace do not matter. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, member) =>
    member && typeof member === 'object' && !Array.isArray(member)
      ? Object.fromEntries(Object.keys(member).sort().map((name) => [name, member[name]]))
      : member,
  );
}

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

@Injectable()
export class CreditsafeService implements OnModuleInit {
  private account: { username: string; passwordHash: string } | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    private readonly jwt: JwtService,
  ) {}

  /** The one Connect account, its password kept hashed like every other. */
  async onModuleInit(): Promise<void> {
    const { account } = this.config.creditsafe;
    if (account) {
      this.account = { username: account.username, passwordHash: await hashPassword(account.password, this.config.scryptCost) };
    }
  }

  private async valid(body: AuthenticateDto): Promise<boolean> {
    const { account } = this;
    return Boolean(
      account &&
        body.username === account.username &&
        body.password !== undefined &&
        (await verifyPassword(account.passwordHash, body.password)),
    );
  }

  /** A token for valid credentials; otherwise the request counts as an identical invalid one: 401, or 429. */
  async authenticate(body: AuthenticateDto, client: string, rawBody: unknown): Promise<{ token: string }> {
    // The `valid-requests-counted` fault counts before it looks at the credentials, as a throttler guard
    // keyed on the body would: identical valid sign-ins use up the limit too.
    if (this.config.fault === 'valid-requests-counted') {
      await this.countIdentical(client, rawBody);
      if (await this.valid(body)) return { token: this.issue(body.username as string) };
      throw new UnauthorizedException('Invalid username or password');
    }
    if (await this.valid(body)) return { token: this.issue(body.username as string) };
    await this.countIdentical(client, rawBody);
    throw new UnauthorizedException('Invalid username or password');
  }

  /** Counts the request as one of its identical ones; refused (429) once they are over the limit. */
  private async countIdentical(client: string, rawBody: unknown): Promise<void> {
    const { invalidLimit, invalidWindowMs } = this.config.creditsafe;
    const key = `${IDENTICAL_INVALID}:${client}:${digest(canonicalJson(rawBody))}`;
    const { isBlocked, timeToBlockExpire } = await this.storage.increment(
      key,
      invalidWindowMs,
      invalidLimit,
      invalidWindowMs,
      IDENTICAL_INVALID,
    );
    if (isBlocked) throw new TooManyRequestsException(IDENTICAL_INVALID_MESSAGE, Math.max(1, timeToBlockExpire));
  }

  private issue(username: string): string {
    const now = Math.floor(Date.now() / 1000);
    return this.jwt.sign(
      { auth_time: now, client_id: 'connect.api.client', username, scope: ['connect_api'], amr: ['pwd'] },
      { subject: username, jwtid: randomUUID() },
    );
  }
}
