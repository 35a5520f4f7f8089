"""Appmixer user tokens: HS256 JWTs with `id`, `scope`, `iat` and `exp`, like the documented sample."""

import time
import warnings

import jwt
from django.conf import settings

# APPMIXER_JWT_SECRET may be as short as 16 characters (the same contract as the hapi target); PyJWT warns
# below 32 bytes.
warnings.filterwarnings('ignore', category=jwt.warnings.InsecureKeyLengthWarning)


def issue_token(user):
    now = int(time.time())
    claims = {'id': user.pk, 'scope': user.scope, 'iat': now, 'exp': now + settings.APPMIXER_TOKEN_LIFETIME_S}
    return jwt.encode(claims, settings.APPMIXER_JWT_SECRET, algorithm='HS256')


def read_token(token):
    """The claims of a valid, unexpired token; jwt.InvalidTokenError otherwise (`alg: none` included)."""
    return jwt.decode(token, settings.APPMIXER_JWT_SECRET, algorithms=['HS256'], options={'require': ['exp']})
