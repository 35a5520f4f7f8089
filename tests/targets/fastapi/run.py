"""Starts the server: reads the settings (a bad value exits 2, naming the variable), builds the application
and serves it with uvicorn, one process (the rate limits' state lives in it). The first line on stdout is
`listening on http://HOST:PORT`, printed once the socket accepts requests; PORT=0 picks a free port, and a
broken variant adds ` (fault: NAME)`.

    PORT=0 .venv/bin/python run.py
"""

import sys

import uvicorn


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server, saying where it listens once its socket is open."""

    fault = None

    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        if self.should_exit:
            return
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        host = f'[{host}]' if ':' in host else host
        fault = f' (fault: {self.fault})' if self.fault else ''
        print(f'listening on http://{host}:{port}{fault}', flush=True)


def main():
    from app.settings import ConfigError, get_settings

    try:
        settings = get_settings()
    except ConfigError as error:
        print(f'error: {error}', file=sys.stderr)
        sys.exit(2)

    from app.main import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        lifespan='off',
        # uvicorn's default trusts X-Forwarded-For from 127.0.0.1 and rewrites the client address with it, so a
        # local client could choose its own address for every limit. The limits read the peer address, or
        # with TRUST_FORWARDED_FOR=1 the hop the proxy appended (app/throttling.py).
        proxy_headers=False,
        # uvicorn logs to stderr, but its access log (LOG_REQUESTS=1) to stdout, after the `listening on` line.
        log_level='info' if settings.log_requests else 'warning',
        access_log=settings.log_requests,
        # Longer than clients keep idle connections pooled, so none is closed under a request being sent.
        timeout_keep_alive=75,
        backlog=2048,
        timeout_graceful_shutdown=2,
    )
    server = AnnouncingServer(config)
    server.fault = settings.fault
    server.run()


if __name__ == '__main__':
    main()
