// Password hashing: node's crypto.scrypt with a random salt, stored as "scrypt$N$salt$hash" so every hash is
// checked with the cost it was made with, and compared in constant time. PASSWORD_SCRYPT_COST lowers the cost
// for test servers.

import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const KEY_BYTES = 32;
const R = 8;

function derive(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // scrypt needs about 128 * N * r bytes; node's default 32 MiB cap would refuse the larger costs.
    scrypt(password, salt, KEY_BYTES, { N: cost, r: R, p: 1, maxmem: 256 * cost * R }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, cost);
  return `scrypt$${cost}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const [, cost, salt, hash] = stored.split('$');
  const expected = Buffer.from(hash, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), Number(cost));
  return timingSafeEqual(actual, expected);
}
