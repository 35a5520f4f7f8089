// Appmixer tokens: HS256 JWTs with `id`, `scope`, `iat` and `exp`, like the documented sample, made and read by
// @nestjs/jwt's JwtService (the module is registered with the secret, the algorithm and the lifetime).

import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';

import { User, UsersStore } from './users.store';

@Injectable()
export class TokensService {
  constructor(
    private readonly jwt: JwtService,
    private readonly users: UsersStore,
  ) {}

  issue(user: User): string {
    return this.jwt.sign({ id: user.id, scope: user.scope });
  }

  /** The user of a valid, unexpired token (HS256 only, so `alg: none` is refused), else null. */
  userOf(token: string): User | null {
    let claims: { id?: unknown };
    try {
      claims = this.jwt.verify(token);
    } catch {
      return null;
    }
    return typeof claims.id === 'string' ? this.users.get(claims.id) : null;
  }
}
