"""The server's settings, read from the environment with pydantic-settings (README.md lists the variables).

Every field is named after its variable (matched without regard to case); an empty variable counts as unset.
`get_settings()` reads them once; a bad value raises `ConfigError` naming every bad variable (never its
value, since some are secrets), and run.py turns that into exit status 2.
"""

from functools import lru_cache
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The deliberately broken variants, for testing the conformance suite (README.md, "Broken variants").
Fault = Literal[
    'forwarded-for-key',
    'email-not-normalized',
    'slowapi-default-message',
    'retry-after-reset-epoch',
    'validation-body-echo',
    'duplicate-500',
    'lockout-not-counting-refusals',
    'lockout-is-the-limit',
    'admin-not-exempt',
]


class ConfigError(Exception):
    """The environment holds values the server cannot start with."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra='ignore', frozen=True)

    # Where to listen (PORT=0 picks a free port).
    host: str = '127.0.0.1'
    port: int = Field(8080, ge=0, le=65535)

    # Appmixer signup rate limits (names and defaults from the Appmixer docs), windows in milliseconds.
    user_signup_rate_limit_email: int = Field(10, ge=1)
    user_signup_rate_limit_email_window_ms: int = Field(3_600_000, ge=1)
    user_signup_rate_limit_ip: int = Field(50, ge=1)
    user_signup_rate_limit_ip_window_ms: int = Field(3_600_000, ge=1)
    signup_limiter_order: Literal['email-first', 'ip-first'] = 'email-first'
    # A scope a token needs to create users; unset, signup is open.
    api_user_create_scope: str | None = None

    # Creditsafe Connect /authenticate limits (documented: 5 identical invalid per 2 minutes; 10,000 per 5 minutes).
    creditsafe_invalid_limit: int = Field(5, ge=1)
    creditsafe_invalid_window_ms: int = Field(120_000, ge=1)
    creditsafe_lockout_threshold: int = Field(10_000, ge=1)
    creditsafe_lockout_window_ms: int = Field(300_000, ge=1)

    # The `limits` strategy of every limit: a moving (sliding) window, or a fixed window that opens at a key's
    # first counted request.
    ratelimit_strategy: Literal['moving-window', 'fixed-window'] = 'moving-window'

    # Only behind a proxy that appends to X-Forwarded-For may the client address be taken from it.
    trust_forwarded_for: bool = False

    # Seeded accounts: an Appmixer admin and a Creditsafe Connect user (both optional).
    admin_username: str | None = None
    admin_email: str | None = None
    admin_password: str | None = None
    creditsafe_username: str | None = None
    creditsafe_password: str | None = None

    # Tokens: the Appmixer HS256 secret (random when unset) and the lifetimes in seconds.
    appmixer_jwt_secret: str | None = Field(None, min_length=16)
    appmixer_token_lifetime_s: int = Field(30 * 24 * 3600, ge=1)
    creditsafe_token_lifetime_s: int = Field(3600, ge=1)

    # scrypt's cost (N) for stored passwords. Test servers lower it so signup floods fit short windows.
    password_scrypt_cost: int = Field(16384, ge=2, le=1 << 20)

    log_requests: bool = False
    fastapi_target_fault: Fault | None = None

    @field_validator('password_scrypt_cost')
    @classmethod
    def power_of_two(cls, value: int) -> int:
        if value & (value - 1):
            raise ValueError('must be a power of two')
        return value

    @model_validator(mode='after')
    def accounts_complete(self) -> 'Settings':
        for username, password in (('admin_username', 'admin_password'),
                                   ('creditsafe_username', 'creditsafe_password')):
            if (getattr(self, username) is None) != (getattr(self, password) is None):
                raise ValueError(f'{username.upper()} and {password.upper()} must be set together')
        return self

    @property
    def fault(self) -> str | None:
        return self.fastapi_target_fault


def _describe(error) -> str:
    field = '.'.join(str(part) for part in error['loc']).upper()
    message = error['msg'].removeprefix('Value error, ')
    return f'{field}: {message}' if field else message


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        # pydantic's own text quotes the values, and some of them are secrets: name the variables only.
        problems = '; '.join(_describe(e) for e in error.errors(include_input=False))
        raise ConfigError(f'invalid configuration: {problems}') from None
