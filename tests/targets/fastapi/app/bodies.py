"""Request bodies: JSON only, 64 KiB at most, and fields that take strings only.

`BodySizeLimitMiddleware` reads a request's body before the application sees it and answers 413 (in the API's
error shape) when it is larger than the limit; the body is read to its end first, so the client gets the
answer rather than a reset connection. `require_json` is a dependency of every route that takes a body: a
body of another content type, or one without a content type, is a 415.
"""

from typing import Annotated

from fastapi import HTTPException, Request
from pydantic import StringConstraints
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response

MAX_BODY_BYTES = 64 * 1024
# A body larger than this is not read to its end after the 413: the connection is closed instead.
DRAIN_LIMIT_BYTES = 16 * 1024 * 1024

# A string field (a number, array, object or null is refused, never coerced).
StrictString = Annotated[str, StringConstraints(strict=True)]


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] != 'http' or scope['method'] in ('GET', 'HEAD', 'OPTIONS'):
            await self.app(scope, receive, send)
            return

        chunks, size, more_body = [], 0, True
        while more_body:
            message = await receive()
            if message['type'] == 'http.disconnect':
                return
            chunk = message.get('body', b'')
            size += len(chunk)
            if size <= self.max_bytes:
                chunks.append(chunk)
            more_body = message.get('more_body', False)
            if size > DRAIN_LIMIT_BYTES:
                break

        if size > self.max_bytes:
            headers = {'Connection': 'close'} if more_body else None
            response = error_response(413, f'Request body is larger than {self.max_bytes // 1024} KiB', headers)
            await response(scope, receive, send)
            return

        body = b''.join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {'type': 'http.request', 'body': body, 'more_body': False}
            return await receive()

        await self.app(scope, replay, send)


async def require_json(request: Request) -> None:
    if not await request.body():
        return  # no body: the route decides whether it needs one
    content_type = request.headers.get('content-type', '')
    maintype, _, subtype = content_type.split(';', 1)[0].strip().lower().partition('/')
    if maintype != 'application' or not (subtype == 'json' or subtype.endswith('+json')):
        raise HTTPException(status_code=415, detail='Request bodies must be JSON (Content-Type: application/json)')
