"""The WSGI application gunicorn serves (run.py loads it once, before the worker starts)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'authsite.settings')

application = get_wsgi_application()
