"""Request and answer shapes of the Appmixer user API.

Fields are strings only (a number, array, object or null is a 400); passwords are never trimmed; the
signup e-mail is trimmed and must look like an address.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from rest_framework import serializers

from accounts.models import User, normalize_email
from authsite.api import Conflict, Unauthorized
from authsite.fields import StrictCharField, StrictEmailField


class UserSerializer(serializers.ModelSerializer):
    isActive = serializers.BooleanField(source='activated')

    class Meta:
        model = User
        fields = ['id', 'username', 'isActive', 'email', 'plan']


class CurrentUserSerializer(UserSerializer):
    class Meta(UserSerializer.Meta):
        fields = UserSerializer.Meta.fields + ['scope']


class SignInSerializer(serializers.Serializer):
    username = StrictCharField(max_length=256, required=False, trim_whitespace=False)
    email = StrictCharField(max_length=256, required=False)
    password = StrictCharField(max_length=1024, trim_whitespace=False)

    def validate(self, attrs):
        if 'username' not in attrs and 'email' not in attrs:
            raise serializers.ValidationError('username or email is required')
        return attrs

    def authenticated_user(self):
        """The user named by `username` if given, else by `email`, when the password matches; else 401."""
        data = self.validated_data
        if 'username' in data:
            user = User.objects.filter(username=data['username']).first()
        else:
            user = User.objects.filter(email_key=normalize_email(data['email'])).first()
        if user is None:
            User().set_password(data['password'])  # as long as a real check, so unknown users do not show
            raise Unauthorized()
        if not user.check_password(data['password']):
            raise Unauthorized()
        return user


class SignUpSerializer(serializers.Serializer):
    username = StrictCharField(max_length=256, trim_whitespace=False)
    email = StrictEmailField(max_length=254)
    password = StrictCharField(max_length=1024, trim_whitespace=False)

    def create(self, validated_data):
        username, email = validated_data['username'], validated_data['email']
        if settings.TARGET_FAULT == 'duplicate-500':
            # Only the e-mail is checked; a taken username is left to the database's unique constraint.
            if User.objects.filter(email_key=normalize_email(email)).exists():
                raise Conflict()
            return User.objects.create_user(username, email, validated_data['password'])
        if User.objects.filter(Q(username=username) | Q(email_key=normalize_email(email))).exists():
            raise Conflict()
        try:
            with transaction.atomic():
                return User.objects.create_user(username, email, validated_data['password'])
        except IntegrityError:
            raise Conflict() from None  # a signup for the same user was being created at the same time
