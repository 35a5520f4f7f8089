// The application: the settings (a global module, so every module can inject APP_CONFIG), ThrottlerModule with
// the named throttlers (throttling/throttlers.ts), the Appmixer and Creditsafe modules, and two global guards,
// in this order: BearerAuthGuard (who is calling), then AppThrottlerGuard (the limits, which skip an admin).

import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';

import { AppmixerModule } from './appmixer/appmixer.module';
import { BearerAuthGuard } from './appmixer/auth.guard';
import { ErrorShapeFilter } from './common/errors';
import { APP_CONFIG, AppConfig } from './config';
import { CreditsafeModule } from './creditsafe/creditsafe.module';
import { AppThrottlerGuard } from './throttling/app-throttler.guard';
import { throttlerOptions } from './throttling/throttlers';

@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ThrottlerModule.forRootAsync({ inject: [APP_CONFIG], useFactory: throttlerOptions }),
        AppmixerModule,
        CreditsafeModule,
      ],
      providers: [
        { provide: APP_GUARD, useClass: BearerAuthGuard },
        { provide: APP_GUARD, useClass: AppThrottlerGuard },
        { provide: APP_FILTER, useClass: ErrorShapeFilter },
      ],
    };
  }
}
