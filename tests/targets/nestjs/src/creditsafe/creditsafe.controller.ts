// Creditsafe Connect's POST /authenticate. Every request to it counts toward the `lockout` throttler (the
// guard runs before the handler, so successes, 401s, validation failures and 429s of the identical-invalid
// limit all count); the identical-invalid limit is the service's.

import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { Request } from 'express';

import { Public } from '../appmixer/auth.guard';
import { clientAddress } from '../common/client';
import { LOCKOUT, ThrottleOnly } from '../throttling/throttlers';
import { CreditsafeService } from './creditsafe.service';
import { AuthenticateDto } from './dto';

@Controller()
@Public()
export class CreditsafeController {
  constructor(private readonly creditsafe: CreditsafeService) {}

  @Post('authenticate')
  @HttpCode(200)
  @ThrottleOnly(LOCKOUT)
  authenticate(@Body() body: AuthenticateDto, @Req() req: Request) {
    // req.body is the JSON as sent (the pipe made `body` from it): "identical" is about what was sent.
    return this.creditsafe.authenticate(body, clientAddress(req), req.body);
  }
}
