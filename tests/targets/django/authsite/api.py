"""What every endpoint's view shares: the first throttle that refuses answers 429 with its own message (later
throttles never see the request), request bodies must be JSON, and the exceptions the API answers with."""

from rest_framework import exceptions, status
from rest_framework.views import APIView


class TooManyRequests(exceptions.Throttled):
    """A 429 carrying the refusing limit's own message (DRF's Throttled would append its own sentence)."""

    def __init__(self, message, wait):
        exceptions.APIException.__init__(self, message)
        self.wait = wait


class Unauthorized(exceptions.APIException):
    """401 for bad credentials. DRF's AuthenticationFailed turns into 403 on a view without authenticators."""
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = 'Invalid username or password'
    default_code = 'unauthorized'


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = 'A user with this username or email already exists'
    default_code = 'conflict'


def has_body(request):
    return int(request.META.get('CONTENT_LENGTH') or 0) > 0


class JsonApiView(APIView):
    def check_throttles(self, request):
        """DRF asks every throttle and answers with the longest wait; here the throttles are checked in order
        and the first refusal answers, so a request refused by one is never counted by the next."""
        self.passed_throttles = []
        for throttle in self.get_throttles():
            if not throttle.allow_request(request, self):
                raise TooManyRequests(throttle.message, throttle.wait())
            self.passed_throttles.append(throttle)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # DRF reads a body without a Content-Type as no body at all; this API refuses it instead.
        if has_body(request) and not request.content_type:
            raise exceptions.UnsupportedMediaType('', detail='Request bodies must be JSON (Content-Type: application/json)')
