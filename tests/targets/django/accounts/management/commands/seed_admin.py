"""`manage.py seed_admin`: creates (or resets) the admin account ADMIN_USERNAME names, with the admin scope."""

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User, normalize_email


class Command(BaseCommand):
    help = 'Create or reset the Appmixer admin account from ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD.'

    def handle(self, *args, **options):
        if not settings.ADMIN_USERNAME:
            return
        User.objects.filter(username=settings.ADMIN_USERNAME).delete()
        User.objects.filter(email_key=normalize_email(settings.ADMIN_EMAIL)).delete()
        User.objects.create_user(settings.ADMIN_USERNAME, settings.ADMIN_EMAIL, settings.ADMIN_PASSWORD,
                                 scope=['user', 'admin'])
