"""`manage.py seed_connect_user`: creates (or resets) the Creditsafe Connect account CREDITSAFE_USERNAME names."""

from django.conf import settings
from django.core.management.base import BaseCommand

from creditsafe.models import ConnectUser


class Command(BaseCommand):
    help = 'Create or reset the Creditsafe Connect account from CREDITSAFE_USERNAME and CREDITSAFE_PASSWORD.'

    def handle(self, *args, **options):
        if not settings.CREDITSAFE_USERNAME:
            return
        account = ConnectUser(username=settings.CREDITSAFE_USERNAME)
        account.set_password(settings.CREDITSAFE_PASSWORD)
        ConnectUser.objects.filter(username=account.username).delete()
        account.save()
