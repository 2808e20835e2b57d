import datetime
import logging

from django.core.files.storage import default_storage
from django.core.management.base import CommandError
from django.utils import timezone

from agreements.models import Photo
from backoffice.management.output import BaseCommand
from registry.models import Institution

logger = logging.getLogger(__name__)

# Every field that names an uploaded file, by model.
FILE_FIELDS = [(Institution, ["logo", "logo_thumbnail"]), (Photo, ["image", "thumbnail"])]
# A file this young may be an upload whose row is not committed yet (an admin's save, an
# import of thousands of photos in one transaction): it is left alone.
YOUNGEST = datetime.timedelta(days=1)


def stored_files(storage, folder=""):
    folders, files = storage.listdir(folder)
    for name in files:
        yield f"{folder}{name}"
    for sub in folders:
        yield from stored_files(storage, f"{folder}{sub}/")


def names_in(models_and_fields):
    names = set()
    for model, fields in models_and_fields:
        for field in fields:
            names.update(model.objects.exclude(**{field: ""}).values_list(field, flat=True))
    return names


class Command(BaseCommand):
    help = (
        "List the uploaded files (MEDIA_ROOT) that no photo or logo names any more, left by a "
        "photo deleted, a logo replaced or cleared, an agreement deleted or an import that "
        "replaced photos (Django deletes no file with its row, and a file another row shares, "
        "after a merge or a restore, must stay). --delete removes those that no version in "
        "the history names either; --with-history those too (a version restored later then "
        "has no image). Files younger than a day are left: their row may not be committed yet."
    )

    def add_arguments(self, parser):
        parser.add_argument("--delete", action="store_true", help="remove the unused files")
        parser.add_argument(
            "--with-history",
            action="store_true",
            help="with --delete, also those only the history names (for a removal request)",
        )

    def handle(self, *args, delete, with_history, **options):
        if with_history and not delete:
            # Alone it deleted nothing, and listed the files only the history names as if no
            # version named them.
            raise CommandError("--with-history goes with --delete: it says what to remove.")
        storage = default_storage
        # No folder yet (nothing uploaded) has no file to list: said as for an empty one, where
        # a return said nothing at all, even to --delete.
        stored = sorted(stored_files(storage)) if storage.exists("") else []
        used = names_in(FILE_FIELDS)
        in_history = names_in([(model.history.model, fields) for model, fields in FILE_FIELDS])
        young = timezone.now() - YOUNGEST
        removed = unused = 0
        for name in stored:
            if name in used or storage.get_modified_time(name) > young:
                continue
            kept = name in in_history and not with_history
            if delete and not kept:
                storage.delete(name)
                removed += 1
                self.stdout.write(f"removed {name}")
            else:
                unused += 1
                self.stdout.write(f"unused {name}" + (" (in the history)" if kept else ""))
        logger.info("Unused media: removed=%d left=%d", removed, unused)
        if delete:
            self.stdout.write(f"{removed} files removed.")
