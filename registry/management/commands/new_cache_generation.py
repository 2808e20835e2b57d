from django.core.management.base import BaseCommand

from registry.cache import new_generation


class Command(BaseCommand):
    help = (
        "Start a new generation of the search cache (registry/cache.py), so that no page reads "
        "what was cached before: bin/start runs it after migrating, because an upgrade's "
        "migrations and code change what a search finds and how a page is made, and no write "
        "of data told the cache (a shared cache, Redis or the database's, outlives a restart)."
    )

    def handle(self, *args, **options):
        try:
            new_generation()
        # Each backend fails its own way. The app starts all the same, as it did before this
        # step: its health check says the cache is down, and it recovers when the cache does.
        except Exception as error:  # noqa: BLE001
            self.stderr.write(
                "The cache did not answer, so a new generation was not started: what it holds "
                f"from before may be shown for up to SEARCH_CACHE_SECONDS once it does. {error}"
            )
