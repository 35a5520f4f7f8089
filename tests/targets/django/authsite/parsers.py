"""The only request parser: JSON bodies of at most 64 KiB.

Answers 413 for a larger body (after reading it, so the client still gets the answer rather than a reset
connection) and 400 for a body that is not JSON, with the parser's reason and never the body itself.
"""

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import exceptions, parsers, status

# A larger body than this is not read to its end after a 413: the connection is left for gunicorn to close.
DRAIN_LIMIT = 16 * 1024 * 1024


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = 'Request body is larger than 64 KiB'
    default_code = 'payload_too_large'


def _reject_constant(name):
    raise ValueError(f'{name} is not valid JSON')


def _discard(stream, amount):
    while amount > 0:
        chunk = stream.read(min(65536, amount))
        if not chunk:
            return
        amount -= len(chunk)


def read_body(request):
    """The raw body of a Django request (Django's own size check), or PayloadTooLarge after reading it."""
    try:
        return request.body
    except RequestDataTooBig:
        _discard(request.META['wsgi.input'], min(int(request.META['CONTENT_LENGTH']), DRAIN_LIMIT))
        raise PayloadTooLarge() from None


class BoundedJSONParser(parsers.BaseParser):
    media_type = 'application/json'

    def parse(self, stream, media_type=None, parser_context=None):
        raw = read_body(parser_context['request']._request)
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError:
            raise exceptions.ParseError('JSON parse error - the body is not UTF-8') from None
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            raise exceptions.ParseError(f'JSON parse error - {exc.msg}: line {exc.lineno} column {exc.colno}') from None
        except (ValueError, RecursionError):
            raise exceptions.ParseError('JSON parse error - the document is not one this server reads') from None
