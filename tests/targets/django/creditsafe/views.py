"""Creditsafe Connect `POST /authenticate`: a token for valid credentials, 401 otherwise, behind the lockout
(a DRF throttle, so it counts the request before the body is even read) and the identical-invalid limit."""

from django.conf import settings
from rest_framework.response import Response

from authsite.api import JsonApiView, TooManyRequests, Unauthorized
from creditsafe.serializers import CredentialsSerializer
from creditsafe.signing import issue_token
from creditsafe.throttles import IdenticalInvalidThrottle, LockoutThrottle


class AuthenticateView(JsonApiView):
    throttle_classes = [LockoutThrottle]

    def post(self, request):
        body = request.data
        serializer = CredentialsSerializer(data={} if body is None else body)
        serializer.is_valid(raise_exception=True)

        identical_invalid = IdenticalInvalidThrottle()
        if not identical_invalid.allow_request(request, self):
            raise TooManyRequests(identical_invalid.message, identical_invalid.wait())

        account = serializer.authenticated_account()
        if account is not None:
            if settings.TARGET_FAULT == 'successes-not-counted':
                # Counting only failures, as django-axes does: a successful sign-in is taken back out.
                self.passed_throttles[0].forget_request()
            return Response({'token': issue_token(account)})

        if not identical_invalid.record_invalid():
            raise TooManyRequests(identical_invalid.message, identical_invalid.wait())
        raise Unauthorized()
