// The Appmixer user API (cloud docs): POST /user/auth (sign in), POST /user (create user, limited by the two
// signup throttlers), GET /user (the token's user). POST answers are 200, as documented (Nest's default is 201).

import {
  Body,
  CanActivate,
  ConflictException,
  Controller,
  ExecutionContext,
  ForbiddenException,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';

import { APP_CONFIG, AppConfig } from '../config';
import { SIGNUP_EMAIL, SIGNUP_IP, ThrottleOnly } from '../throttling/throttlers';
import { AppRequest, OptionalAuth, Public } from './auth.guard';
import { SignInDto, SignUpDto } from './dto';
import { TokensService } from './tokens.service';
import { DuplicateUser, User, UsersStore, publicUser } from './users.store';

/** With API_USER_CREATE_SCOPE only a token with that scope may create users. */
@Injectable()
export class CreateScopeGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const scope = this.config.signup.createScope;
    if (scope === null) return true;
    const { caller } = context.switchToHttp().getRequest<AppRequest>();
    if (!caller) throw new UnauthorizedException('Creating users requires a token');
    if (!caller.scope.includes(scope)) throw new ForbiddenException('Insufficient scope');
    return true;
  }
}

@Controller('user')
export class AppmixerController {
  constructor(
    private readonly users: UsersStore,
    private readonly tokens: TokensService,
  ) {}

  private signedIn(user: User) {
    return { user: publicUser(user), token: this.tokens.issue(user) };
  }

  @Post('auth')
  @HttpCode(200)
  @Public()
  @ThrottleOnly()
  async signIn(@Body() body: SignInDto) {
    const user = await this.users.signIn(body);
    if (!user) throw new UnauthorizedException('Invalid username or password');
    return this.signedIn(user);
  }

  @Post()
  @HttpCode(200)
  @OptionalAuth()
  @ThrottleOnly(SIGNUP_EMAIL, SIGNUP_IP)
  @UseGuards(CreateScopeGuard)
  async create(@Body() body: SignUpDto) {
    try {
      return this.signedIn(await this.users.create(body));
    } catch (err) {
      if (err instanceof DuplicateUser) throw new ConflictException(`A user with this ${err.field} already exists`);
      throw err;
    }
  }

  @Get()
  @ThrottleOnly()
  me(@Req() req: AppRequest) {
    const user = req.caller as User;
    return { ...publicUser(user), scope: user.scope };
  }
}
