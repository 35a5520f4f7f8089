"""The Django project of the authentication server: settings, URLs, and what every endpoint shares."""
