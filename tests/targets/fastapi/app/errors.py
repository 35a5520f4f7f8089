"""Every error answer in one shape, hapi/Boom's: `{"statusCode": N, "error": "Reason", "message": "…"}`.

`install(app)` registers the handlers: HTTP errors (ours and Starlette's, so an unknown path or method answers
in the same shape), request validation (FastAPI's default would answer 422 with pydantic's error list, input
values included; this API answers 400 with messages that name fields, never values), slowapi's
`RateLimitExceeded`, and anything unexpected (500). Every 429 carries `Retry-After`.
"""

import logging
import math
import time
from http import HTTPStatus

from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from slowapi.errors import RateLimitExceeded
from starlette.exceptions import HTTPException as StarletteHTTPException

from .settings import get_settings

logger = logging.getLogger('authserver')


def error_body(status: int, message: str) -> dict:
    return {'statusCode': status, 'error': HTTPStatus(status).phrase, 'message': message}


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message), status_code=status, headers=headers)


def retry_after(reset_at: float, now: float | None = None) -> str:
    """Whole seconds until `reset_at` (epoch seconds), rounded up and never 0: a client that waits that long
    finds the limit open again."""
    now = time.time() if now is None else now
    return str(max(1, math.ceil(reset_at - now)))


class TooManyRequests(HTTPException):
    """A 429 with the refusing limit's own message and the wait it asks for."""

    def __init__(self, message: str, retry_after_value: str):
        super().__init__(status_code=429, detail=message, headers={'Retry-After': retry_after_value})


def unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers={'WWW-Authenticate': 'Bearer'})


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return error_response(exc.status_code, message, exc.headers)


_NOT_AN_OBJECT = {'model_type', 'model_attributes_type', 'dict_type'}


def describe_validation_error(error: dict) -> str:
    """One pydantic error as a sentence naming the field. pydantic's messages for the types used here say what
    was expected, never what was sent; the input itself is left out."""
    field = '.'.join(str(part) for part in error['loc'][1:] if not isinstance(part, int))
    kind = error['type']
    if kind == 'json_invalid':
        return f"Malformed JSON: {error.get('ctx', {}).get('error', 'not a JSON document')}"
    if kind == 'missing':
        return f'{field} is required' if field else 'A JSON body is required'
    if kind in _NOT_AN_OBJECT and not field:
        return 'The request body must be a JSON object'
    message = error['msg'].removeprefix('Value error, ')
    return f'{field}: {message}' if field else message


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    message = '; '.join(dict.fromkeys(describe_validation_error(e) for e in exc.errors())) or 'Invalid request'
    body = error_body(400, message)
    if get_settings().fault == 'validation-body-echo':
        # The FastAPI docs' "use the RequestValidationError body" recipe: pydantic's error list and the body
        # that failed go back to the client, passwords and all.
        body['detail'] = jsonable_encoder(exc.errors())
        body['body'] = jsonable_encoder(exc.body)
    return JSONResponse(body, status_code=400)


async def rate_limit_exceeded(request: Request, exc: RateLimitExceeded) -> JSONResponse:
    """slowapi's refusal (the decorator limits): the limit's message, and Retry-After from the window the
    limiter reports for the limit that refused (`request.state.view_rate_limit`, set by slowapi)."""
    limiter = request.app.state.limiter
    item, identifiers = request.state.view_rate_limit
    reset_at, _remaining = limiter.limiter.get_window_stats(item, *identifiers)
    return error_response(429, exc.detail, {'Retry-After': retry_after(reset_at)})


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error('unhandled error on %s %s', request.method, request.url.path, exc_info=exc)
    return error_response(500, 'An internal server error occurred')


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(RateLimitExceeded, rate_limit_exceeded)
    app.add_exception_handler(Exception, internal_error)
