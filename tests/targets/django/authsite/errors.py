"""Every error answer in one shape, hapi/Boom's: `{"statusCode": N, "error": "Reason", "message": "…"}`.

`api_exception_handler` is DRF's EXCEPTION_HANDLER; the views at the bottom are Django's handler400/403/404/500,
so an unknown path, a disallowed Host or a crash answers in the same JSON shape. Messages name fields, never
the values sent (the `parse-error-echo` variant breaks exactly that).
"""

import math
from http import HTTPStatus

from django.conf import settings
from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.views import exception_handler


def error_body(status, message):
    return {'statusCode': status, 'error': HTTPStatus(status).phrase, 'message': message}


def _flatten(detail, field=None):
    """A ValidationError's detail as `field: message` sentences."""
    if isinstance(detail, dict):
        return [sentence for name, inner in detail.items()
                for sentence in _flatten(inner, None if name == 'non_field_errors' else name)]
    if isinstance(detail, list):
        return [sentence for inner in detail for sentence in _flatten(inner, field)]
    return [f'{field}: {detail}' if field else str(detail)]


def describe(exc):
    if isinstance(exc, exceptions.ValidationError):
        return '; '.join(_flatten(exc.detail)) or 'Invalid request'
    detail = getattr(exc, 'detail', None)
    return str(detail) if detail else HTTPStatus(exc.status_code).phrase


def retry_after(wait):
    """Whole seconds, rounded up, never 0: a client that waits that long finds the window over."""
    return str(max(1, math.ceil(wait)))


def _raw_body(request):
    raw = getattr(getattr(request, '_request', None), '_body', b'')
    return raw.decode('utf-8', 'replace')


def api_exception_handler(exc, context):
    response = exception_handler(exc, context)  # DRF's: status, WWW-Authenticate; None for a crash (500)
    if response is None:
        return None
    message = describe(exc)
    if settings.TARGET_FAULT == 'parse-error-echo' and response.status_code == 400:
        # "Debug detail" left in: the body that failed is quoted back, passwords and all.
        message = f'{message} (request body: {_raw_body(context.get("request"))})'
    response.data = error_body(response.status_code, message)
    if isinstance(exc, exceptions.Throttled):
        response['Retry-After'] = retry_after(exc.wait)
    return response


def _json_error(status, message):
    def view(request, exception=None):
        return JsonResponse(error_body(status, message), status=status)
    return view


bad_request = _json_error(400, 'Bad request')
permission_denied = _json_error(403, 'Forbidden')
not_found = _json_error(404, 'Not found')


def server_error(request):
    return JsonResponse(error_body(500, 'An internal server error occurred'), status=500)
