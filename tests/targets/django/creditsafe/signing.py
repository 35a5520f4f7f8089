"""Creditsafe tokens: RS256 JWTs with a `kid`, signed with a key pair made when the server starts (run.py
loads this module before gunicorn forks its worker, so the key is made once)."""

import base64
import hashlib
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_PUBLIC_DER = PRIVATE_KEY.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
KEY_ID = base64.urlsafe_b64encode(hashlib.sha1(_PUBLIC_DER).digest()).rstrip(b'=').decode()


def issue_token(account):
    now = int(time.time())
    claims = {
        'sub': account.username,
        'username': account.username,
        'scope': ['connect_api'],
        'iat': now,
        'nbf': now,
        'exp': now + settings.CREDITSAFE_TOKEN_LIFETIME_S,
    }
    return jwt.encode(claims, PRIVATE_KEY, algorithm='RS256', headers={'kid': KEY_ID})
