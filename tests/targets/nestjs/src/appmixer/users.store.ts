// The Appmixer accounts, in memory. A username (compared as stored) or an e-mail address (one mailbox however
// it is written: trimmed and lower-cased) is claimed the moment a signup asks for it, before its password is
// hashed, and given back if the signup fails: two signups racing for one name cannot both win.

import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';

import { hashPassword, verifyPassword } from '../common/passwords';
import { APP_CONFIG, AppConfig } from '../config';

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

export interface User {
  id: string;
  username: string;
  email: string;
  isActive: boolean;
  plan: string;
  scope: string[];
  passwordHash: string;
}

export interface NewUser {
  username: string;
  email: string;
  password: string;
  scope?: string[];
}

export class DuplicateUser extends Error {
  constructor(readonly field: 'username' | 'email') {
    super(`a user with this ${field} already exists`);
  }
}

export const publicUser = ({ id, username, isActive, email, plan }: User) => ({ id, username, isActive, email, plan });

@Injectable()
export class UsersStore implements OnModuleInit {
  private readonly accounts = new Map<string, User>();
  // A name (prefixed by its kind) → the account's id, or `pending` while its signup hashes the password.
  private readonly claims = new Map<string, string>();
  private readonly scryptCost: number;
  // An unknown name is checked against this, so it takes as long to refuse as a wrong password.
  private readonly decoyHash: Promise<string>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.scryptCost = config.scryptCost;
    this.decoyHash = hashPassword(randomBytes(16).toString('hex'), this.scryptCost);
  }

  /** The seeded admin (ADMIN_USERNAME), before the server listens. */
  async onModuleInit(): Promise<void> {
    const { admin } = this.config;
    if (admin) await this.create({ ...admin, scope: ['user', 'admin'] });
  }

  async create({ username, email, password, scope = ['user'] }: NewUser): Promise<User> {
    const names: Array<['username' | 'email', string]> = [
      ['username', `u:${username}`],
      ['email', `e:${normalizeEmail(email)}`],
    ];
    const taken = names.find(([, name]) => this.claims.has(name));
    if (taken) throw new DuplicateUser(taken[0]);
    for (const [, name] of names) this.claims.set(name, 'pending');
    let passwordHash: string;
    try {
      passwordHash = await hashPassword(password, this.scryptCost);
    } catch (err) {
      for (const [, name] of names) this.claims.delete(name);
      throw err;
    }
    const id = randomBytes(12).toString('hex');
    const user: User = { id, username, email: email.trim(), isActive: false, plan: 'free', scope, passwordHash };
    this.accounts.set(id, user);
    for (const [, name] of names) this.claims.set(name, id);
    return user;
  }

  get(id: string): User | null {
    return this.accounts.get(id) ?? null;
  }

  /** The user named by username (or, without one, by e-mail) when the password matches, else null. */
  async signIn({ username, email, password }: { username?: string; email?: string; password: string }): Promise<User | null> {
    const name = username !== undefined ? `u:${username}` : `e:${normalizeEmail(email ?? '')}`;
    const id = this.claims.get(name);
    const user = id === undefined ? undefined : this.accounts.get(id);
    const stored = user ? user.passwordHash : await this.decoyHash;
    return (await verifyPassword(stored, password)) && user ? user : null;
  }
}
