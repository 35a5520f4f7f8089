"""Appmixer users and stored passwords, in memory (the server starts empty but for the seeded admin).

Usernames are stored and compared exactly as given; e-mail addresses are stored trimmed and looked up by
their key (trimmed and lower-cased), so one mailbox is one account however it is written. Passwords are
scrypt hashes (`hashlib.scrypt`, cost PASSWORD_SCRYPT_COST); hashing runs in a worker thread, so the event
loop keeps answering while it works.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool


def normalize_email(email: str) -> str:
    return email.strip().lower()


class PasswordHasher:
    def __init__(self, cost: int):
        self.cost = cost

    def _derive(self, password: str, salt: bytes) -> bytes:
        return hashlib.scrypt(password.encode('utf-8', 'surrogatepass'), salt=salt, n=self.cost, r=8, p=1,
                              dklen=32, maxmem=256 * self.cost * 8 + (1 << 20))

    def hash(self, password: str) -> str:
        salt = secrets.token_bytes(16)
        return f'scrypt${self.cost}${salt.hex()}${self._derive(password, salt).hex()}'

    def verify(self, stored: str, password: str) -> bool:
        _, _, salt, digest = stored.split('$')
        return hmac.compare_digest(self._derive(password, bytes.fromhex(salt)).hex(), digest)

    async def hash_async(self, password: str) -> str:
        return await run_in_threadpool(self.hash, password)

    async def verify_async(self, stored: str | None, password: str) -> bool:
        """Checks `password` against `stored`; with nothing stored (an unknown account) it spends as long as a
        real check and answers False, so the answer's timing does not tell which accounts exist."""
        if stored is None:
            await run_in_threadpool(self.hash, password)
            return False
        return await run_in_threadpool(self.verify, stored, password)


@dataclass
class User:
    username: str
    email: str
    password_hash: str
    scope: list[str] = field(default_factory=lambda: ['user'])
    # A 24-hex-digit id like the Mongo ObjectIds Appmixer answers with.
    id: str = field(default_factory=lambda: secrets.token_hex(12))
    # Appmixer's `isActive`: false until the account is activated (this server never activates one).
    is_active: bool = False
    plan: str = 'free'

    @property
    def is_admin(self) -> bool:
        return 'admin' in self.scope

    def public(self) -> dict:
        return {'id': self.id, 'username': self.username, 'isActive': self.is_active, 'email': self.email,
                'plan': self.plan}


class DuplicateUser(Exception):
    """The username or the e-mail address belongs to an existing user."""


class UserStore:
    def __init__(self):
        self._by_id: dict[str, User] = {}
        self._by_username: dict[str, User] = {}
        self._by_email: dict[str, User] = {}

    def by_id(self, user_id: str) -> User | None:
        return self._by_id.get(user_id)

    def by_username(self, username: str) -> User | None:
        return self._by_username.get(username)

    def by_email(self, email: str) -> User | None:
        return self._by_email.get(normalize_email(email))

    def email_taken(self, email: str) -> bool:
        return normalize_email(email) in self._by_email

    def taken(self, username: str, email: str) -> bool:
        return username in self._by_username or self.email_taken(email)

    def add(self, username: str, email: str, password_hash: str, scope: list[str] | None = None) -> User:
        """Stores a new user; DuplicateUser when either name is taken (checked here again, since a signup for
        the same user may have been stored while this one's password was being hashed)."""
        if self.taken(username, email):
            raise DuplicateUser(username)
        user = User(username=username, email=email.strip(), password_hash=password_hash, scope=scope or ['user'])
        self._by_id[user.id] = user
        self._by_username[user.username] = user
        self._by_email[normalize_email(email)] = user
        return user
