// Bearer tokens, as a global guard registered before the throttler's, so the limits know who is calling (an
// admin is not limited). A route says what it needs with a decorator: `@Public()` reads no token at all,
// `@OptionalAuth()` reads one when it is sent (a bad one is still a 401) and lets anonymous callers in;
// without either, a valid token is required. The caller goes on `req.caller`.

import { CanActivate, ExecutionContext, Injectable, SetMetadata, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';

import { TokensService } from './tokens.service';
import { User } from './users.store';

export type Caller = User;
export type AppRequest = Request & { caller?: Caller };

const AUTH = 'appmixer:auth';
export const Public = () => SetMetadata(AUTH, 'public');
export const OptionalAuth = () => SetMetadata(AUTH, 'optional');

@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokensService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const mode = this.reflector.getAllAndOverride<string>(AUTH, [context.getHandler(), context.getClass()]);
    if (mode === 'public') return true;
    const req = context.switchToHttp().getRequest<AppRequest>();
    const header = req.headers.authorization;
    if (header === undefined || header.trim() === '') {
      if (mode === 'optional') return true;
      throw new UnauthorizedException('Missing Bearer token');
    }
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (!match) throw new UnauthorizedException('Authorization must be a Bearer token');
    const user = this.tokens.userOf(match[1]);
    if (!user) throw new UnauthorizedException('Invalid or expired token');
    req.caller = user;
    return true;
  }
}
