"""Starts the server: reads the settings (a bad value exits 2 naming it), builds a fresh SQLite database
(migrate, then the seeded accounts), loads the Django application, and serves it with gunicorn, one gthread
worker process (the throttles' cache lives in that process). The first line on stdout is
`listening on http://HOST:PORT`, printed by the worker once it accepts requests; PORT=0 picks a free port.

    PORT=0 .venv/bin/python run.py
"""

import atexit
import os
import shutil
import sys
import tempfile

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'authsite.settings')


def fresh_database():
    """A new SQLite file for this start (unless DATABASE_PATH names one), removed when the server stops."""
    if os.environ.get('DATABASE_PATH', '').strip():
        return None
    directory = tempfile.mkdtemp(prefix='authconform-django-')
    os.environ['DATABASE_PATH'] = os.path.join(directory, 'db.sqlite3')
    return directory


def announce(worker):
    """gunicorn's post_worker_init hook: the worker is about to accept, so say where (once per start)."""
    if worker.age != 1:
        return
    from django.conf import settings

    host, port = worker.sockets[0].getsockname()[:2]
    host = f'[{host}]' if ':' in host else host
    fault = f' (fault: {settings.TARGET_FAULT})' if settings.TARGET_FAULT else ''
    print(f'listening on http://{host}:{port}{fault}', flush=True)


def main():
    database_dir = fresh_database()

    def remove_database(*_):
        if database_dir:
            shutil.rmtree(database_dir, ignore_errors=True)

    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as error:
        remove_database()
        print(f'error: {error}', file=sys.stderr)
        sys.exit(2)
    atexit.register(remove_database)

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from django.urls import get_resolver
    from gunicorn.app.base import BaseApplication

    call_command('migrate', verbosity=0, interactive=False)
    call_command('seed_admin')
    call_command('seed_connect_user')
    connections.close_all()  # the worker opens its own; a SQLite connection must not cross a fork

    from authsite.wsgi import application

    get_resolver().url_patterns  # import the views (and make the Creditsafe key) before the fork

    def worker_exit(server, worker):
        # A worker whose master was killed cleans up after it.
        if os.getppid() != worker.ppid:
            remove_database()

    host = settings.HOST
    options = {
        'bind': f'[{host}]:{settings.PORT}' if ':' in host else f'{host}:{settings.PORT}',
        'workers': 1,
        'worker_class': 'gthread',
        'threads': settings.WORKER_THREADS,
        'keepalive': 75,  # longer than clients keep idle connections pooled, so none is closed under a request
        'timeout': 30,
        'graceful_timeout': 2,
        'backlog': 2048,
        'accesslog': '-' if settings.LOG_REQUESTS else None,
        'errorlog': '-',
        'loglevel': 'warning',
        'post_worker_init': announce,
        'worker_exit': worker_exit,
    }

    class AuthServer(BaseApplication):
        def load_config(self):
            for name, value in options.items():
                self.cfg.set(name, value)

        def load(self):
            return application

    AuthServer().run()


if __name__ == '__main__':
    main()
