"""Reading the server's settings from the environment.

settings.py asks an `Environment` for each variable; every bad value is collected, and `check()` raises one
`ImproperlyConfigured` naming all of them, so a wrong value stops the server at start (run.py exits 2) instead
of falling back to a default. An empty variable counts as unset.
"""

import os

from django.core.exceptions import ImproperlyConfigured


class Environment:
    def __init__(self, environ=None):
        self.environ = os.environ if environ is None else environ
        self.problems = []

    def _value(self, name):
        value = self.environ.get(name, '')
        return value if value.strip() else None

    def integer(self, name, default, minimum=1, maximum=None):
        value = self._value(name)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            self.problems.append(f'{name} must be an integer (got {value!r})')
            return default
        if number < minimum or (maximum is not None and number > maximum):
            bounds = f'between {minimum} and {maximum}' if maximum is not None else f'at least {minimum}'
            self.problems.append(f'{name} must be {bounds} (got {number})')
            return default
        return number

    def choice(self, name, default, choices):
        value = self._value(name)
        if value is None:
            return default
        if value not in choices:
            self.problems.append(f'{name} must be one of {", ".join(choices)} (got {value!r})')
            return default
        return value

    def flag(self, name):
        value = self._value(name)
        if value is None or value in ('0', 'false'):
            return False
        if value in ('1', 'true'):
            return True
        self.problems.append(f'{name} must be 1 or 0 (got {value!r})')
        return False

    def text(self, name, default=None, min_length=1):
        value = self._value(name)
        if value is None:
            return default
        if len(value) < min_length:
            self.problems.append(f'{name} must be at least {min_length} characters long')
            return default
        return value

    def together(self, *names):
        """Variables that only make sense as a set: all of them or none."""
        given = [name for name in names if self._value(name) is not None]
        if given and len(given) != len(names):
            missing = [name for name in names if name not in given]
            self.problems.append(f'{", ".join(missing)} must be set together with {", ".join(given)}')

    def check(self):
        if self.problems:
            raise ImproperlyConfigured('invalid configuration: ' + '; '.join(self.problems))
