"""What the back office's commands write: files (an export, a report), whole or not at all;
and standard output, which may be a pipe whose reader stops early (`| head`)."""

import contextlib
import os
import shutil
import sys
from pathlib import Path

from django.core.management import base
from django.core.management.base import CommandError, OutputWrapper

CLOSED = "standard output was closed before all was written (a reader that stopped, | head)"
# The file named so is standard output, as for cat, tar or curl: written to one named `-`, a
# file that `rm -` then could not remove.
STANDARD_OUTPUT = "-"


class ClosedOutput:
    """Standard output when the command was started without one (`>&-`)."""

    def write(self, text):
        raise BrokenPipeError(CLOSED)

    @property
    def buffer(self):
        return self  # bytes, a report's, fail as text does


class BaseCommand(base.BaseCommand):
    """Django's, for a command whose output may be piped: standard output closed before the
    end is an error in one line, not a traceback, and so not exit status 0."""

    def execute(self, *args, **options):
        given = bool(options.get("stdout"))
        if not given and sys.stdout is None:
            self.stdout = OutputWrapper(ClosedOutput())
        try:
            output = super().execute(*args, **options)
            self.stdout.flush()  # what is left in the buffer fails here, not after the exit
        except BrokenPipeError:
            if not given and sys.stdout is not None:
                # Python would flush what is left on the way out, and fail again.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise CommandError(CLOSED) from None
        return output


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
    except BrokenPipeError:
        raise  # standard output's, written to meanwhile: BaseCommand says so
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror or error}") from None
