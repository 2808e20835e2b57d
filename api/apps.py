from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The read-only JSON API. It composes every app, so it sits at the right end."""

    name = "api"
    verbose_name = "API"
