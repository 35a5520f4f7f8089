"""Appmixer users: a custom user model with the fields the API returns.

Usernames are stored and compared exactly as given; e-mail addresses are stored trimmed and compared by
`email_key` (trimmed and lower-cased, unique), so one mailbox is one account however it is written.
"""

import secrets

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models


def new_object_id():
    """A 24-hex-digit id like the Mongo ObjectIds Appmixer answers with."""
    return secrets.token_hex(12)


def default_scope():
    return ['user']


def normalize_email(email):
    return email.strip().lower()


class UserManager(BaseUserManager):
    def create_user(self, username, email, password, scope=None):
        user = self.model(username=username, email=email.strip(), email_key=normalize_email(email),
                          scope=scope or default_scope())
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    id = models.CharField(primary_key=True, max_length=24, default=new_object_id, editable=False)
    username = models.CharField(max_length=256, unique=True)
    email = models.CharField(max_length=254)
    email_key = models.CharField(max_length=254, unique=True)
    # Appmixer's `isActive`: false until the account is activated (this server never activates one).
    activated = models.BooleanField(default=False)
    plan = models.CharField(max_length=32, default='free')
    scope = models.JSONField(default=default_scope)

    USERNAME_FIELD = 'username'
    EMAIL_FIELD = 'email'
    REQUIRED_FIELDS = ['email']

    objects = UserManager()

    @property
    def is_admin(self):
        return 'admin' in self.scope
