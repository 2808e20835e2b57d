from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """Work that spans every app: the interchange import and export, staff groups."""

    name = "backoffice"
    verbose_name = "Back office"
