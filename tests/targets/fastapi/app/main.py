"""The FastAPI application: both APIs' routers, the error handlers, and the middleware every request passes
(the Creditsafe lockout outermost, so it counts every request to `/authenticate`, then the body size limit).

`create_app()` builds it from the settings (`app.settings.get_settings()`); run.py serves it with uvicorn.
"""

import secrets

from fastapi import FastAPI

from . import appmixer, creditsafe, errors
from .bodies import BodySizeLimitMiddleware
from .lockout import Lockout, LockoutMiddleware
from .settings import Settings, get_settings
from .throttling import limiter
from .users import PasswordHasher, UserStore


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title='Appmixer and Creditsafe Connect authentication', docs_url=None, redoc_url=None)
    app.state.limiter = limiter  # slowapi's handler and decorators look for it here
    errors.install(app)

    hasher = PasswordHasher(settings.password_scrypt_cost)
    users = UserStore()
    if settings.admin_username is not None:
        users.add(settings.admin_username, settings.admin_email or settings.admin_username,
                  hasher.hash(settings.admin_password), scope=['user', 'admin'])
    tokens = appmixer.AppmixerTokens(settings.appmixer_jwt_secret or secrets.token_hex(32),
                                     settings.appmixer_token_lifetime_s)
    lockout = Lockout(settings.creditsafe_lockout_threshold, settings.creditsafe_lockout_window_ms, settings.fault)

    app.include_router(appmixer.create_router(settings, users, hasher, tokens))
    app.include_router(creditsafe.create_router(settings, hasher, lockout))

    # The last middleware added runs first.
    app.add_middleware(BodySizeLimitMiddleware)
    if settings.fault != 'lockout-not-counting-refusals':
        app.add_middleware(LockoutMiddleware, lockout=lockout, path='/authenticate')
    return app
