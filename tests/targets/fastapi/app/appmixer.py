"""The Appmixer user API (cloud docs): `POST /user/auth` (sign in), `POST /user` (create user, with the signup
rate limits) and `GET /user` (the token's user).

Signup limits (anonymous signups; an admin's token bypasses both):

- per client address: slowapi's decorator on `create_user`, keyed by `client_address`, exempt for an admin;
- per e-mail address, trimmed and lower-cased: counted by hand with the same `limits` strategy, since its key
  comes from the body.

FastAPI validates the body and resolves the dependencies before it calls the endpoint, and slowapi's decorator
counts when the endpoint is called. So only attempts that pass validation count (duplicates included), and
the order of the two limiters (SIGNUP_LIMITER_ORDER) decides where the e-mail limit is counted: in the
`signup_attempt` dependency, before the decorator (`email-first`), or at the top of the endpoint, after it
(`ip-first`). An attempt the first limiter refuses never reaches the second.
"""

import re
import time
import warnings
from typing import Annotated

import jwt
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, Field, field_validator, model_validator

from .bodies import StrictString, require_json
from .errors import unauthorized
from .settings import Settings
from .throttling import KeyedLimit, client_address, forwarded_for_or_remote_address, limiter, rate
from .users import DuplicateUser, PasswordHasher, User, UserStore, normalize_email

EMAIL_LIMIT_MESSAGE = 'Too many signup attempts for this email address. Please try again later.'
IP_LIMIT_MESSAGE = 'Too many signup attempts from your IP address. Please try again later.'

# Something, an @, a domain with a dot: the shape of an address, not a deliverability check.
EMAIL_SHAPE = re.compile(r'[^@\s]+@[^@\s]+\.[^@\s.]+')

# APPMIXER_JWT_SECRET may be as short as 16 characters (the same contract as the other targets); PyJWT warns
# below 32 bytes.
warnings.filterwarnings('ignore', category=jwt.warnings.InsecureKeyLengthWarning)


class SignInBody(BaseModel):
    username: Annotated[StrictString, Field(max_length=256)] | None = None
    email: Annotated[StrictString, Field(max_length=256)] | None = None
    password: Annotated[StrictString, Field(max_length=1024)]

    @model_validator(mode='after')
    def username_or_email(self) -> 'SignInBody':
        if self.username is None and self.email is None:
            raise ValueError('username or email is required')
        return self


class SignUpBody(BaseModel):
    username: Annotated[StrictString, Field(min_length=1, max_length=256)]
    email: Annotated[StrictString, Field(max_length=254)]
    password: Annotated[StrictString, Field(min_length=1, max_length=1024)]

    @field_validator('email')
    @classmethod
    def email_shaped(cls, value: str) -> str:
        value = value.strip()
        if not EMAIL_SHAPE.fullmatch(value):
            raise ValueError('must be an e-mail address')
        return value


class AppmixerTokens:
    """HS256 JWTs with `id`, `scope`, `iat` and `exp`, like the documented sample."""

    def __init__(self, secret: str, lifetime_s: int):
        self.secret = secret
        self.lifetime_s = lifetime_s

    def issue(self, user: User) -> str:
        now = int(time.time())
        claims = {'id': user.id, 'scope': user.scope, 'iat': now, 'exp': now + self.lifetime_s}
        return jwt.encode(claims, self.secret, algorithm='HS256')

    def read(self, token: str) -> dict:
        """The claims of a valid, unexpired token; jwt.InvalidTokenError otherwise (`alg: none` included)."""
        return jwt.decode(token, self.secret, algorithms=['HS256'], options={'require': ['exp']})


def create_router(settings: Settings, users: UserStore, hasher: PasswordHasher, tokens: AppmixerTokens) -> APIRouter:
    router = APIRouter(dependencies=[Depends(require_json)])
    fault = settings.fault

    def signed_in(user: User) -> dict:
        return {'user': user.public(), 'token': tokens.issue(user)}

    def bearer_user(request: Request) -> User | None:
        """The user a bearer token names; None without an Authorization header; 401 for any other header (a
        malformed, tampered, `alg: none` or expired token, or another scheme)."""
        header = request.headers.get('authorization', '').strip()
        if not header:
            return None
        scheme, token = get_authorization_scheme_param(header)
        if scheme.lower() != 'bearer' or not token:
            raise unauthorized('Bearer token required')
        try:
            claims = tokens.read(token.strip())
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise unauthorized('Invalid token') from None
        user_id = claims.get('id')
        user = users.by_id(user_id) if isinstance(user_id, str) else None
        if user is None:
            raise unauthorized('Invalid token')
        return user

    async def current_user(request: Request) -> User:
        user = bearer_user(request)
        if user is None:
            raise unauthorized('Missing authentication')
        return user

    async def signup_caller(request: Request) -> User | None:
        """Who is creating the user: anyone, unless API_USER_CREATE_SCOPE names a scope their token must have.
        Kept on `request.state`, where the IP limit's `exempt_when` looks for an admin."""
        caller = bearer_user(request)
        scope = settings.api_user_create_scope
        if scope:
            if caller is None:
                raise unauthorized('Creating users requires a token')
            if scope not in caller.scope:
                raise HTTPException(status_code=403, detail='Insufficient scope')
        request.state.signup_caller = caller
        return caller

    def caller_is_admin(request: Request) -> bool:
        caller = getattr(request.state, 'signup_caller', None)
        return caller is not None and caller.is_admin

    def ip_limit_exempt(request: Request) -> bool:
        # `exempt_when` left off the decorator: slowapi then counts an admin's signups like anyone's.
        return False if fault == 'admin-not-exempt' else caller_is_admin(request)

    email_limit = KeyedLimit('signup-email', settings.user_signup_rate_limit_email,
                             settings.user_signup_rate_limit_email_window_ms, EMAIL_LIMIT_MESSAGE)
    email_first = settings.signup_limiter_order == 'email-first'

    def count_email_attempt(request: Request, body: SignUpBody) -> None:
        if caller_is_admin(request):
            return
        if fault == 'email-not-normalized':
            key = body.email  # trimmed by validation, but in the case it was sent
        else:
            key = normalize_email(body.email)
        email_limit.count(key)

    async def signup_attempt(request: Request, body: SignUpBody,
                             caller: Annotated[User | None, Depends(signup_caller)]) -> SignUpBody:
        """The validated signup; with the e-mail limiter first, counted against the e-mail limit here, before
        slowapi's decorator counts the IP limit."""
        if email_first:
            count_email_attempt(request, body)
        return body

    ip_limit_options = {
        'key_func': forwarded_for_or_remote_address if fault == 'forwarded-for-key' else client_address,
        'exempt_when': ip_limit_exempt,
        # Without `error_message`, slowapi's refusal describes the limit itself ("8 per 2000 millisecond").
        'error_message': None if fault == 'slowapi-default-message' else IP_LIMIT_MESSAGE,
    }

    @router.post('/user')
    @limiter.limit(rate(settings.user_signup_rate_limit_ip, settings.user_signup_rate_limit_ip_window_ms),
                   **ip_limit_options)
    async def create_user(request: Request, body: Annotated[SignUpBody, Depends(signup_attempt)]):
        if not email_first:
            count_email_attempt(request, body)
        conflict = HTTPException(status_code=409, detail='A user with this username or email already exists')
        if fault == 'duplicate-500':
            # Only the e-mail is checked up front; a taken username surfaces as the store's DuplicateUser.
            if users.email_taken(body.email):
                raise conflict
            return signed_in(users.add(body.username, body.email, await hasher.hash_async(body.password)))
        if users.taken(body.username, body.email):
            raise conflict
        password_hash = await hasher.hash_async(body.password)
        try:
            user = users.add(body.username, body.email, password_hash)
        except DuplicateUser:
            raise conflict from None  # the same user was signed up while this password was being hashed
        return signed_in(user)

    @router.post('/user/auth')
    async def sign_in(body: SignInBody):
        """Sign in by username, or by e-mail when no username is given. A wrong password and an unknown user
        get the same answer. Not rate limited (the signup limits are the documented ones)."""
        user = users.by_username(body.username) if body.username is not None else users.by_email(body.email)
        if not await hasher.verify_async(user.password_hash if user else None, body.password):
            raise HTTPException(status_code=401, detail='Invalid username or password')
        return signed_in(user)

    @router.get('/user')
    async def get_user(user: Annotated[User, Depends(current_user)]):
        return {**user.public(), 'scope': user.scope}

    return router
