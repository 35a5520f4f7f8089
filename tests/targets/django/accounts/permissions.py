"""Who may create users: anyone, unless API_USER_CREATE_SCOPE names a scope the caller's token must have."""

from django.conf import settings
from rest_framework import exceptions, permissions


class CanCreateUsers(permissions.BasePermission):
    def has_permission(self, request, view):
        scope = settings.API_USER_CREATE_SCOPE
        if not scope:
            return True
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated('Creating users requires a token')
        if scope not in request.user.scope:
            raise exceptions.PermissionDenied('Insufficient scope')
        return True
