from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Institutions and focus areas"

    def ready(self):
        from registry import lookups  # noqa: F401 - registers `__any_of`
