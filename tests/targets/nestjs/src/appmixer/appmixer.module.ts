import { randomBytes } from 'node:crypto';
import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';

import { APP_CONFIG, AppConfig } from '../config';
import { AppmixerController, CreateScopeGuard } from './appmixer.controller';
import { TokensService } from './tokens.service';
import { UsersStore } from './users.store';

@Module({
  imports: [
    JwtModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        // Random when APPMIXER_JWT_SECRET is unset: tokens then end with the process.
        secret: config.jwtSecret ?? randomBytes(32).toString('hex'),
        signOptions: { algorithm: 'HS256', expiresIn: config.appmixerTokenLifetimeS },
        verifyOptions: { algorithms: ['HS256'] },
      }),
    }),
  ],
  controllers: [AppmixerController],
  providers: [UsersStore, TokensService, CreateScopeGuard],
  // The app's global BearerAuthGuard reads tokens with it.
  exports: [TokensService],
})
export class AppmixerModule {}
