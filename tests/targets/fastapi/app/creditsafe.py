"""Creditsafe Connect `POST /authenticate`: an RS256 token for valid credentials, 401 otherwise, behind the
lockout (`lockout.py`, checked before routing) and the identical-invalid-request limit.

The body is optional, and so are its fields: a missing body or field is invalid credentials (401); a field
that is there must be a string (400 otherwise).

Identical invalid requests: per client address and body (JSON compared regardless of key order and
whitespace), CREDITSAFE_INVALID_LIMIT requests are answered 401 per CREDITSAFE_INVALID_WINDOW_MS, then the
same request gets 429 until the window lets it through. Only invalid answers count, so valid credentials are
never refused by it. The limit is looked at before the credentials are checked and counted after, and a
request whose count no longer fits is refused, so requests checked at the same time cannot all slip past.
"""

import base64
import hashlib
import json
import time
from typing import Annotated

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from .bodies import StrictString, require_json
from .errors import TooManyRequests
from .lockout import Lockout
from .settings import Settings
from .throttling import KeyedLimit, client_address
from .users import PasswordHasher

IDENTICAL_INVALID_MESSAGE = 'Too many identical invalid requests. Please try again later.'


class Credentials(BaseModel):
    username: Annotated[StrictString, Field(max_length=256)] | None = None
    password: Annotated[StrictString, Field(max_length=1024)] | None = None


def canonical_json(raw: bytes) -> str:
    """The same text for the same JSON whatever its key order or whitespace (an empty body reads as null)."""
    value = json.loads(raw) if raw.strip() else None
    return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False)


class SigningKey:
    """An RSA key pair made when the server starts; its `kid` is the SHA-1 of the public key."""

    def __init__(self):
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.kid = base64.urlsafe_b64encode(hashlib.sha1(public_der).digest()).rstrip(b'=').decode()


def create_router(settings: Settings, hasher: PasswordHasher, lockout: Lockout) -> APIRouter:
    router = APIRouter(dependencies=[Depends(require_json)])
    fault = settings.fault
    key = SigningKey()
    account = None
    if settings.creditsafe_username is not None:
        account = (settings.creditsafe_username, hasher.hash(settings.creditsafe_password))
    identical_invalid = KeyedLimit('creditsafe-invalid', settings.creditsafe_invalid_limit,
                                   settings.creditsafe_invalid_window_ms, IDENTICAL_INVALID_MESSAGE)

    def refuse_identical(invalid_key: str) -> TooManyRequests:
        if fault == 'retry-after-reset-epoch':
            # The window's reset time as `limits` reports it (seconds since the epoch), not the wait until it.
            return TooManyRequests(IDENTICAL_INVALID_MESSAGE, str(int(identical_invalid.reset_at(invalid_key))))
        return identical_invalid.refusal(invalid_key)

    async def valid(credentials: Credentials | None) -> bool:
        if credentials is None or credentials.username is None or credentials.password is None:
            return False
        if account is None or credentials.username != account[0]:
            return await hasher.verify_async(None, credentials.password)  # as long as a real check
        return await hasher.verify_async(account[1], credentials.password)

    def issue_token(username: str) -> str:
        now = int(time.time())
        claims = {
            'sub': username,
            'username': username,
            'scope': ['connect_api'],
            'iat': now,
            'nbf': now,
            'exp': now + settings.creditsafe_token_lifetime_s,
        }
        return jwt.encode(claims, key.private_key, algorithm='RS256', headers={'kid': key.kid})

    @router.post('/authenticate')
    async def authenticate(request: Request, credentials: Credentials | None = None):
        client = client_address(request)
        invalid_key = f'{client} {canonical_json(await request.body())}'
        if not identical_invalid.test(invalid_key):
            raise refuse_identical(invalid_key)
        if fault == 'lockout-not-counting-refusals':
            # The lockout counted here, after the identical-invalid block, instead of before routing: the
            # requests that block answers 429 never reach its count.
            lockout.count(client)

        if await valid(credentials):
            return {'token': issue_token(credentials.username)}

        if not identical_invalid.hit(invalid_key):
            raise refuse_identical(invalid_key)
        raise HTTPException(status_code=401, detail='Invalid username or password')

    return router
