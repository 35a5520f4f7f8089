"""Django settings for the authentication server, built from the environment (README.md lists the variables).

Django's own settings come first; the server's settings (limits, accounts, tokens, the deliberately broken
variant) follow as upper-case names the apps read through `django.conf.settings`.
"""

import secrets
from pathlib import Path

from authsite.environment import Environment

BASE_DIR = Path(__file__).resolve().parent.parent

env = Environment()

# The deliberately broken variants, for testing the conformance suite (README.md, "Broken variants").
FAULTS = (
    'default-get-ident',
    'email-case-kept',
    'retry-after-ms',
    'lockout-threshold-plus-one',
    'parse-error-echo',
    'duplicate-500',
    'successes-not-counted',
    'admin-throttled',
    'invalid-no-cooloff',
)
TARGET_FAULT = env.choice('DJANGO_TARGET_FAULT', None, FAULTS)

# Where to listen; run.py hands these to gunicorn.
HOST = env.text('HOST', '127.0.0.1')
PORT = env.integer('PORT', 8080, minimum=0, maximum=65535)
# gunicorn's gthread worker parks a thread on each new connection until its first request arrives (up to 5 s),
# and pooling HTTP clients open connections they do not use at once: threads must outnumber them, or every
# request waits behind the parked ones.
WORKER_THREADS = env.integer('WORKER_THREADS', 128, maximum=1024)
LOG_REQUESTS = env.flag('LOG_REQUESTS')

# Appmixer signup rate limits (names and defaults from the Appmixer docs), windows in milliseconds.
SIGNUP_EMAIL_LIMIT = env.integer('USER_SIGNUP_RATE_LIMIT_EMAIL', 10)
SIGNUP_EMAIL_WINDOW_MS = env.integer('USER_SIGNUP_RATE_LIMIT_EMAIL_WINDOW_MS', 3_600_000)
SIGNUP_IP_LIMIT = env.integer('USER_SIGNUP_RATE_LIMIT_IP', 50)
SIGNUP_IP_WINDOW_MS = env.integer('USER_SIGNUP_RATE_LIMIT_IP_WINDOW_MS', 3_600_000)
SIGNUP_LIMITER_ORDER = env.choice('SIGNUP_LIMITER_ORDER', 'email-first', ('email-first', 'ip-first'))
API_USER_CREATE_SCOPE = env.text('API_USER_CREATE_SCOPE')

# Creditsafe Connect /authenticate limits (documented: 5 identical invalid per 2 minutes; 10,000 per 5 minutes).
CREDITSAFE_INVALID_LIMIT = env.integer('CREDITSAFE_INVALID_LIMIT', 5)
CREDITSAFE_INVALID_WINDOW_MS = env.integer('CREDITSAFE_INVALID_WINDOW_MS', 120_000)
CREDITSAFE_LOCKOUT_THRESHOLD = env.integer('CREDITSAFE_LOCKOUT_THRESHOLD', 10_000)
CREDITSAFE_LOCKOUT_WINDOW_MS = env.integer('CREDITSAFE_LOCKOUT_WINDOW_MS', 300_000)

# `history`: DRF's sliding request history; `clock`: fixed windows aligned to wall-clock multiples of their length.
THROTTLE_WINDOWS = env.choice('THROTTLE_WINDOWS', 'history', ('history', 'clock'))

# Only behind a proxy that sets X-Forwarded-For may the client address be taken from it (DRF's NUM_PROXIES).
TRUST_FORWARDED_FOR = env.flag('TRUST_FORWARDED_FOR')

# Seeded accounts: an Appmixer admin and a Creditsafe Connect user (both optional).
env.together('ADMIN_USERNAME', 'ADMIN_PASSWORD')
env.together('CREDITSAFE_USERNAME', 'CREDITSAFE_PASSWORD')
ADMIN_USERNAME = env.text('ADMIN_USERNAME')
ADMIN_EMAIL = env.text('ADMIN_EMAIL') or ADMIN_USERNAME
ADMIN_PASSWORD = env.text('ADMIN_PASSWORD')
CREDITSAFE_USERNAME = env.text('CREDITSAFE_USERNAME')
CREDITSAFE_PASSWORD = env.text('CREDITSAFE_PASSWORD')

# Tokens: the Appmixer HS256 secret (random when unset) and the lifetimes in seconds.
APPMIXER_JWT_SECRET = env.text('APPMIXER_JWT_SECRET', min_length=16) or secrets.token_hex(32)
APPMIXER_TOKEN_LIFETIME_S = env.integer('APPMIXER_TOKEN_LIFETIME_S', 30 * 24 * 3600)
CREDITSAFE_TOKEN_LIFETIME_S = env.integer('CREDITSAFE_TOKEN_LIFETIME_S', 3600)

# Stored passwords: Django's hashers. `md5` is for test servers only (signup floods must fit short windows).
PASSWORD_HASHER = env.choice('PASSWORD_HASHER', 'pbkdf2', ('pbkdf2', 'scrypt', 'md5'))
PASSWORD_HASHERS = [
    {
        'pbkdf2': 'django.contrib.auth.hashers.PBKDF2PasswordHasher',
        'scrypt': 'django.contrib.auth.hashers.ScryptPasswordHasher',
        'md5': 'django.contrib.auth.hashers.MD5PasswordHasher',
    }[PASSWORD_HASHER],
    'django.contrib.auth.hashers.PBKDF2PasswordHasher',
]

# The SQLite file; run.py points it at a fresh temporary file for each start unless it is given.
DATABASE_PATH = env.text('DATABASE_PATH', str(BASE_DIR / 'db.sqlite3'))

env.check()

# --- Django ---------------------------------------------------------------------------------------------

SECRET_KEY = secrets.token_urlsafe(50)  # nothing is signed with it (no sessions); new on every start
DEBUG = False
# Django ignores the port when it matches these.
ALLOWED_HOSTS = ['127.0.0.1', 'localhost', '[::1]', HOST]

INSTALLED_APPS = [
    'django.contrib.contenttypes',
    'django.contrib.auth',
    'rest_framework',
    'accounts',
    'creditsafe',
]
MIDDLEWARE = [
    'django.middleware.security.SecurityMiddleware',
    'django.middleware.common.CommonMiddleware',  # checks Host against ALLOWED_HOSTS (400 otherwise)
]
ROOT_URLCONF = 'authsite.urls'
WSGI_APPLICATION = 'authsite.wsgi.application'
APPEND_SLASH = False
AUTH_USER_MODEL = 'accounts.User'

DATABASES = {
    'default': {
        'ENGINE': 'django.db.backends.sqlite3',
        'NAME': DATABASE_PATH,
        'CONN_MAX_AGE': None,  # one connection per worker thread, kept
        'OPTIONS': {
            # Writers queue for the lock instead of failing with "database is locked".
            'timeout': 20,
            'transaction_mode': 'IMMEDIATE',
            'init_command': 'PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;',
        },
    }
}
DEFAULT_AUTO_FIELD = 'django.db.models.BigAutoField'

# The throttles' request histories: one process-local memory cache, shared by the worker's threads. The
# default MAX_ENTRIES (300) would cull live throttle state under a flood of distinct requests.
CACHES = {
    'default': {
        'BACKEND': 'django.core.cache.backends.locmem.LocMemCache',
        'LOCATION': 'throttles',
        'OPTIONS': {'MAX_ENTRIES': 1_000_000},
    }
}

# Request bodies: 64 KiB at most (larger ones get 413, see authsite/parsers.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024

LANGUAGE_CODE = 'en-us'
USE_I18N = False
USE_TZ = True
TIME_ZONE = 'UTC'

REST_FRAMEWORK = {
    'DEFAULT_AUTHENTICATION_CLASSES': [],
    'DEFAULT_PERMISSION_CLASSES': ['rest_framework.permissions.AllowAny'],
    'DEFAULT_THROTTLE_CLASSES': [],
    'DEFAULT_PARSER_CLASSES': ['authsite.parsers.BoundedJSONParser'],
    'DEFAULT_RENDERER_CLASSES': ['rest_framework.renderers.JSONRenderer'],
    'DEFAULT_CONTENT_NEGOTIATION_CLASS': 'authsite.negotiation.AlwaysJSONNegotiation',
    'EXCEPTION_HANDLER': 'authsite.errors.api_exception_handler',
    # DRF's get_ident: the peer address, or the last X-Forwarded-For hop when one trusted proxy appends it.
    'NUM_PROXIES': 1 if TRUST_FORWARDED_FOR else 0,
    # Limits with millisecond windows, read by WindowedRateThrottle.parse_rate.
    'DEFAULT_THROTTLE_RATES': {
        'signup_email': f'{SIGNUP_EMAIL_LIMIT}/{SIGNUP_EMAIL_WINDOW_MS}ms',
        'signup_ip': f'{SIGNUP_IP_LIMIT}/{SIGNUP_IP_WINDOW_MS}ms',
        'creditsafe_invalid': f'{CREDITSAFE_INVALID_LIMIT}/{CREDITSAFE_INVALID_WINDOW_MS}ms',
        'creditsafe_lockout': f'{CREDITSAFE_LOCKOUT_THRESHOLD}/{CREDITSAFE_LOCKOUT_WINDOW_MS}ms',
    },
}

LOGGING = {
    'version': 1,
    'disable_existing_loggers': False,
    'handlers': {'stderr': {'class': 'logging.StreamHandler'}, 'null': {'class': 'logging.NullHandler'}},
    'loggers': {
        # Unhandled exceptions (answered 500) are printed; nothing else.
        'django.request': {'handlers': ['stderr'], 'level': 'ERROR', 'propagate': False},
        'django.security': {'handlers': ['null'], 'propagate': False},  # a disallowed Host is answered 400
    },
}
