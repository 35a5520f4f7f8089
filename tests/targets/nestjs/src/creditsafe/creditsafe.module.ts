import { createHash, generateKeyPairSync } from 'node:crypto';
import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';

import { APP_CONFIG, AppConfig } from '../config';
import { CreditsafeController } from './creditsafe.controller';
import { CreditsafeService } from './creditsafe.service';

/** An RSA key made at start; its kid is a digest of the public key. */
function signingKey() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url').slice(0, 27);
  return { privateKey, kid };
}

@Module({
  imports: [
    // A JwtService of its own: RS256 with the key's kid, the claims of Creditsafe's sample token.
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => {
        const key = signingKey();
        return {
          privateKey: key.privateKey,
          signOptions: {
            algorithm: 'RS256',
            keyid: key.kid,
            expiresIn: config.creditsafe.tokenLifetimeS,
            notBefore: 0,
            issuer: 'authconform-nestjs-target',
            audience: ['connect_api'],
          },
        };
      },
    }),
  ],
  controllers: [CreditsafeController],
  providers: [CreditsafeService],
})
export class CreditsafeModule {}
