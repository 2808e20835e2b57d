from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    """Work that spans every app: the interchange import and export, staff groups."""

    name = "backoffice"
    verbose_name = _("Back office")
