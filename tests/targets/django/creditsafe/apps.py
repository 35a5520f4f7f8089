"""App configuration of the Creditsafe Connect app."""

from django.apps import AppConfig


class CreditsafeConfig(AppConfig):
    name = 'creditsafe'
    default_auto_field = 'django.db.models.BigAutoField'
