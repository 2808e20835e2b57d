"""Files the back office's commands write (an export, a report): whole or not at all."""

import contextlib
import os
import shutil
from pathlib import Path

from django.core.management.base import CommandError


@contextlib.contextmanager
def written_whole(path, mode="w", **options):
    """Open `path` to write: the file appears, or replaces the one there, only once all is
    written. Written in place, a run that failed midway (an error, Ctrl-C, a full disk) left
    half a file that looked whole, in place of a good one. A path that cannot be written (a
    missing folder, a folder) is a CommandError naming it."""
    target = Path(path)
    try:
        if target.exists() and not target.is_file():
            # A device or a pipe (/dev/stdout): nothing to replace. A folder fails here.
            with open(target, mode, **options) as file:
                yield file
            return
        target = target.resolve()  # through a link: the file it names is replaced, not it
        # Beside it, so that the rename is within one file system, hence atomic.
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            with open(partial, mode, **options) as file:
                yield file
            if target.exists():
                shutil.copymode(target, partial)  # who may read it, as before
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from None
