// The server's settings: every environment variable read once and checked here, before Nest starts. A wrong
// value is collected with the others, so the server stops naming every bad variable (exit 2, in main.ts). The
// values themselves are never printed, since some are secrets.

export const FAULTS = [
  'forwarded-for-tracker',
  'tracker-before-pipes',
  'throttler-default-message',
  'retry-after-ms',
  'admin-not-skipped',
  'parse-error-echo',
  'no-block-duration',
  'valid-requests-counted',
] as const;
export type Fault = (typeof FAULTS)[number];

export const LIMITER_ORDERS = ['email-first', 'ip-first'] as const;
export type LimiterOrder = (typeof LIMITER_ORDERS)[number];

export interface Account {
  username: string;
  password: string;
}

export interface AppConfig {
  host: string;
  port: number;
  signup: {
    emailLimit: number;
    emailWindowMs: number;
    ipLimit: number;
    ipWindowMs: number;
    order: LimiterOrder;
    createScope: string | null;
  };
  creditsafe: {
    invalidLimit: number;
    invalidWindowMs: number;
    lockoutThreshold: number;
    lockoutWindowMs: number;
    tokenLifetimeS: number;
    account: Account | null;
  };
  admin: (Account & { email: string }) | null;
  jwtSecret: string | null;
  appmixerTokenLifetimeS: number;
  scryptCost: number;
  trustForwardedFor: boolean;
  fault: Fault | null;
}

/** The injection token of the settings. */
export const APP_CONFIG = Symbol('APP_CONFIG');

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

// Windows become timers and Date arithmetic; 2^31 - 1 ms is the longest a node timer takes.
const MAX_WINDOW_MS = 2 ** 31 - 1;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const problems: string[] = [];
  // An empty variable counts as unset.
  const text = (name: string): string | undefined =>
    env[name] === undefined || env[name] === '' ? undefined : env[name];

  const int = (name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number => {
    const value = text(name);
    if (value === undefined) return fallback;
    const number = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!(number >= min && number <= max)) {
      problems.push(`${name} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return number;
  };
  const windowMs = (name: string, fallback: number) => int(name, fallback, 1, MAX_WINDOW_MS);

  const choice = <T extends string>(name: string, allowed: readonly T[], fallback: T | null): T | null => {
    const value = text(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    problems.push(`${name} must be one of ${allowed.join(', ')}`);
    return fallback;
  };

  const account = (userName: string, passwordName: string): Account | null => {
    const username = text(userName);
    const password = text(passwordName);
    if (username === undefined && password === undefined) return null;
    if (username === undefined || password === undefined) {
      problems.push(`${userName} and ${passwordName} go together: set both or neither`);
      return null;
    }
    return { username, password };
  };

  const jwtSecret = text('APPMIXER_JWT_SECRET') ?? null;
  if (jwtSecret !== null && jwtSecret.length < 16) {
    problems.push('APPMIXER_JWT_SECRET must be at least 16 characters long');
  }

  const scryptCost = int('PASSWORD_SCRYPT_COST', 16384, 2, 2 ** 20);
  if (!Number.isInteger(Math.log2(scryptCost))) {
    problems.push('PASSWORD_SCRYPT_COST must be a power of two');
  }

  const admin = account('ADMIN_USERNAME', 'ADMIN_PASSWORD');
  const adminEmail = text('ADMIN_EMAIL');
  if (adminEmail !== undefined && admin === null) {
    problems.push('ADMIN_EMAIL needs ADMIN_USERNAME and ADMIN_PASSWORD');
  }

  const config: AppConfig = {
    host: text('HOST') ?? '127.0.0.1',
    port: int('PORT', 8080, 0, 65535),
    signup: {
      emailLimit: int('USER_SIGNUP_RATE_LIMIT_EMAIL', 10),
      emailWindowMs: windowMs('USER_SIGNUP_RATE_LIMIT_EMAIL_WINDOW_MS', 3_600_000),
      ipLimit: int('USER_SIGNUP_RATE_LIMIT_IP', 50),
      ipWindowMs: windowMs('USER_SIGNUP_RATE_LIMIT_IP_WINDOW_MS', 3_600_000),
      order: choice('SIGNUP_LIMITER_ORDER', LIMITER_ORDERS, 'email-first') ?? 'email-first',
      createScope: text('API_USER_CREATE_SCOPE') ?? null,
    },
    creditsafe: {
      invalidLimit: int('CREDITSAFE_INVALID_LIMIT', 5),
      invalidWindowMs: windowMs('CREDITSAFE_INVALID_WINDOW_MS', 120_000),
      lockoutThreshold: int('CREDITSAFE_LOCKOUT_THRESHOLD', 10_000),
      lockoutWindowMs: windowMs('CREDITSAFE_LOCKOUT_WINDOW_MS', 300_000),
      tokenLifetimeS: int('CREDITSAFE_TOKEN_LIFETIME_S', 3600),
      account: account('CREDITSAFE_USERNAME', 'CREDITSAFE_PASSWORD'),
    },
    admin: admin && { ...admin, email: adminEmail ?? admin.username },
    jwtSecret,
    appmixerTokenLifetimeS: int('APPMIXER_TOKEN_LIFETIME_S', 30 * 24 * 3600),
    scryptCost,
    trustForwardedFor: choice('TRUST_FORWARDED_FOR', ['0', '1'], '0') === '1',
    fault: choice('NESTJS_TARGET_FAULT', FAULTS, null),
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
