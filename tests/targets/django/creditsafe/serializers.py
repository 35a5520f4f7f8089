"""The /authenticate body: optional, and so are its fields (missing ones are invalid credentials, 401), but a
field that is there must be a string (400 otherwise)."""

from rest_framework import serializers

from authsite.fields import StrictCharField
from creditsafe.models import ConnectUser


class CredentialsSerializer(serializers.Serializer):
    username = StrictCharField(max_length=256, required=False, trim_whitespace=False)
    password = StrictCharField(max_length=1024, required=False, trim_whitespace=False)

    def authenticated_account(self):
        """The account the credentials name, or None for anything else."""
        data = self.validated_data
        if 'username' not in data or 'password' not in data:
            return None
        account = ConnectUser.objects.filter(username=data['username']).first()
        if account is None:
            ConnectUser().set_password(data['password'])  # as long as a real check
            return None
        return account if account.check_password(data['password']) else None
