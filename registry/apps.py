from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Institutions and focus areas")

    def ready(self):
        from registry import lookups  # noqa: F401 - registers `__any_of`
