// The app's ThrottlerGuard (registered as APP_GUARD), the library's guard with three changes:
//
// - the throttlers run in the order they are configured. ThrottlerGuard sorts them by ttl, so with windows of
//   different lengths the shorter would always run first whatever SIGNUP_LIMITER_ORDER says;
// - a refusal says which limit refused: the throttler's own message, not one for the whole module (the
//   library's `errorMessage` is not told which throttler refused);
// - and carries `Retry-After`: for a named throttler the library writes `Retry-After-<name>` (whole seconds
//   until the block ends), which clients do not know; it is copied into `Retry-After`.

import { Inject, Injectable } from '@nestjs/common';
import { ThrottlerException, ThrottlerGuard, ThrottlerOptions, ThrottlerRequest } from '@nestjs/throttler';

import { TooManyRequestsException } from '../common/errors';
import { APP_CONFIG, AppConfig } from '../config';
import { LIMIT_MESSAGES, SIGNUP_IP } from './throttlers';

@Injectable()
export class AppThrottlerGuard extends ThrottlerGuard {
  @Inject(APP_CONFIG) private readonly config!: AppConfig;

  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    const configured = (this.options as { throttlers: ThrottlerOptions[] }).throttlers.map((t) => t.name);
    this.throttlers.sort((a, b) => configured.indexOf(a.name) - configured.indexOf(b.name));
  }

  protected override async handleRequest(request: ThrottlerRequest): Promise<boolean> {
    try {
      return await super.handleRequest(request);
    } catch (err) {
      if (!(err instanceof ThrottlerException)) throw err;
      const name = request.throttler.name ?? 'default';
      const { res } = this.getRequestResponse(request.context);
      const { fault } = this.config;
      // throttler-default-message: the IP throttler is missing from the message table, so its refusal keeps
      // ThrottlerException's own message.
      const message =
        fault === 'throttler-default-message' && name === SIGNUP_IP ? undefined : LIMIT_MESSAGES[name];
      // retry-after-ms: Retry-After is the throttler's block duration, which is in milliseconds.
      const retryAfter =
        fault === 'retry-after-ms' ? request.blockDuration : (res.getHeader(`Retry-After-${name}`) as number | undefined);
      throw new TooManyRequestsException(message ?? err.message, retryAfter);
    }
  }
}
