"""The Creditsafe Connect API accounts (the server seeds one from CREDITSAFE_USERNAME/PASSWORD)."""

from django.contrib.auth.hashers import check_password, make_password
from django.db import models


class ConnectUser(models.Model):
    username = models.CharField(max_length=256, unique=True)
    password = models.CharField(max_length=256)

    def set_password(self, raw_password):
        self.password = make_password(raw_password)

    def check_password(self, raw_password):
        return check_password(raw_password, self.password)
