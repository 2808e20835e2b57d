"""The management commands as an operator runs them: a path, an option or a pipe that fails is
one line saying so and a non-zero exit, never a traceback, and changes nothing; a file they
write is whole or not there."""

import io
import json
import os
import re
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command, load_command_class
from django.core.management.base import BaseCommand
from PIL import Image

from agreements.models import Agreement
from backoffice.interchange import import_lines
from backoffice.management.commands import export_agreements, generate_data, import_agreements
from backoffice.management.output import written_whole
from registry.management.commands import wait_for_database
from registry.models import FocusArea, Institution

DEMO = Path(settings.BASE_DIR) / "demo" / "agreements.jsonl"

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    with DEMO.open("rb") as lines:
        assert not import_lines(lines).errors


def test_an_export_into_a_missing_folder_is_an_error_naming_it(tmp_path, demo):
    output = tmp_path / "missing" / "all.jsonl"

    with pytest.raises(CommandError, match=f"cannot write {output}: No such file"):
        call_command("export_agreements", "--output", str(output))


def test_an_export_into_a_folder_is_an_error_naming_it(tmp_path, demo):
    with pytest.raises(CommandError, match=f"cannot write {tmp_path}: Is a directory"):
        call_command("export_agreements", "--output", str(tmp_path))


def test_an_export_that_fails_midway_leaves_the_file_there_before_it(tmp_path, demo, monkeypatch):
    output = tmp_path / "all.jsonl"
    output.write_text("the export of yesterday\n", encoding="utf-8")

    def fails_after_a_line(agreements):
        yield "{}\n"
        raise RuntimeError("the database went away")

    monkeypatch.setattr(export_agreements, "export_lines", fails_after_a_line)
    with pytest.raises(RuntimeError):
        call_command("export_agreements", "--output", str(output))

    assert output.read_text(encoding="utf-8") == "the export of yesterday\n"
    assert [path.name for path in tmp_path.iterdir()] == ["all.jsonl"]  # no part of a file


def test_an_export_replaces_the_file_there_whole(tmp_path, demo):
    output = tmp_path / "all.jsonl"
    output.write_text("the export of yesterday\n", encoding="utf-8")
    output.chmod(0o600)

    call_command("export_agreements", "--output", str(output), stdout=io.StringIO())

    assert output.read_bytes() == DEMO.read_bytes()
    assert output.stat().st_mode & 0o777 == 0o600  # readable by whom it was before
    assert [path.name for path in tmp_path.iterdir()] == ["all.jsonl"]


def test_a_report_into_a_missing_folder_is_an_error_naming_it(tmp_path, demo):
    output = tmp_path / "missing" / "countries.csv"

    with pytest.raises(CommandError, match=f"cannot write {output}: No such file"):
        call_command("report", "countries", "--output", str(output), stdout=io.StringIO())


class Terminal(io.TextIOWrapper):
    def isatty(self):
        return True


def standard_output(terminal=False):
    """What a command writes to standard output, in bytes as a pipe takes them."""
    return (Terminal if terminal else io.TextIOWrapper)(io.BytesIO(), encoding="utf-8")


def test_an_export_to_dash_writes_to_standard_output(tmp_path, demo, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = standard_output()

    call_command("export_agreements", "--output", "-", stdout=out)

    out.flush()
    assert out.buffer.getvalue() == DEMO.read_bytes()
    assert list(tmp_path.iterdir()) == []  # not a file named "-"


@pytest.mark.parametrize("format", ["csv", "xlsx", "pdf"])
def test_a_report_to_dash_writes_to_standard_output_and_says_so_on_standard_error(
    tmp_path, demo, monkeypatch, format
):
    monkeypatch.chdir(tmp_path)
    call_command("report", "countries", "--format", format, "-o", "file", stdout=io.StringIO())
    out, err = standard_output(), io.StringIO()

    call_command("report", "countries", "--format", format, "-o", "-", stdout=out, stderr=err)

    out.flush()
    written = out.buffer.getvalue()
    if format == "csv":
        assert written == Path("file").read_bytes()
    else:  # the same file but for the time it was made
        assert written[:4] == Path("file").read_bytes()[:4] and len(written) > 1000
    assert re.fullmatch(r"Wrote standard output \(\d+ rows\)\.\n", err.getvalue())
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file"]  # none named "-"


def test_a_file_named_dash_is_written_as_dot_slash_dash(tmp_path, demo, monkeypatch):
    monkeypatch.chdir(tmp_path)

    call_command("report", "countries", "-o", "./-", stdout=io.StringIO())

    assert b"China" in (tmp_path / "-").read_bytes()


@pytest.mark.parametrize("format", ["xlsx", "pdf"])
def test_a_binary_report_is_not_written_to_a_terminal(tmp_path, demo, monkeypatch, format):
    monkeypatch.chdir(tmp_path)
    out = standard_output(terminal=True)

    with pytest.raises(CommandError, match=f"^--format {format} is not written to a terminal"):
        call_command("report", "countries", "--format", format, "-o", "-", stdout=out)

    out.flush()
    assert out.buffer.getvalue() == b""
    assert list(tmp_path.iterdir()) == []


def test_a_csv_report_may_be_read_in_a_terminal(tmp_path, demo, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = standard_output(terminal=True)

    call_command("report", "countries", "-o", "-", stdout=out, stderr=io.StringIO())

    out.flush()
    assert b"China" in out.buffer.getvalue()
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def pipe_read_no_more():
    """Standard output piped into a reader that stopped reading (`| head`)."""
    read, write = os.pipe()
    os.close(read)
    with open(write, "w", encoding="utf-8") as pipe:
        yield pipe


def test_an_export_into_a_pipe_closed_early_is_an_error_not_a_traceback(demo, pipe_read_no_more):
    with pytest.raises(CommandError, match="standard output was closed before all was written"):
        call_command("export_agreements", stdout=pipe_read_no_more)


def test_standard_output_closed_while_a_file_is_written_is_said_as_that(tmp_path):
    with pytest.raises(BrokenPipeError), written_whole(tmp_path / "synthetic.jsonl"):
        raise BrokenPipeError  # "N agreements generated." to a reader gone, as BaseCommand says

    assert list(tmp_path.iterdir()) == []


def test_an_export_with_standard_output_closed_is_an_error(demo, monkeypatch):
    monkeypatch.setattr(sys, "stdout", None)  # as Python starts with it closed (>&-)

    with pytest.raises(CommandError, match="standard output was closed before all was written"):
        call_command("export_agreements")


def test_an_export_into_a_file_needs_no_standard_output(tmp_path, demo, monkeypatch):
    monkeypatch.setattr(sys, "stdout", None)

    call_command("export_agreements", "--output", str(tmp_path / "all.jsonl"))

    assert (tmp_path / "all.jsonl").read_bytes() == DEMO.read_bytes()


@pytest.mark.parametrize("count", ["0", "-5"])
def test_generate_data_for_no_agreements_is_refused_and_adds_nothing(count):
    with pytest.raises(CommandError, match=f"--agreements {count}: give a number of 1 or more"):
        call_command("generate_data", "--agreements", count, stdout=io.StringIO())

    assert not FocusArea.objects.exists() and not Institution.objects.exists()


def test_generate_data_into_a_registry_with_records_but_no_agreements_is_refused():
    FocusArea.objects.create(name="5G", slug="5g")  # left by a demo whose agreements went

    with pytest.raises(CommandError, match="use an empty one"):
        call_command("generate_data", "--agreements", "1", stdout=io.StringIO())


def test_generate_data_into_a_missing_folder_is_refused_before_it_generates(tmp_path):
    output = tmp_path / "missing" / "synthetic.jsonl"

    with pytest.raises(CommandError, match=f"cannot write {output}: No such file"):
        call_command("generate_data", "--agreements", "1", "--jsonl", output, stdout=io.StringIO())

    assert not Agreement.objects.exists()


def test_generate_data_writes_what_it_generated(tmp_path):
    output = tmp_path / "synthetic.jsonl"

    call_command("generate_data", "--agreements", "3", "--jsonl", output, stdout=io.StringIO())

    assert len(output.read_text(encoding="utf-8").splitlines()) == Agreement.objects.count() == 3


def test_an_import_whose_photo_cannot_be_stored_says_so_not_that_its_file_cannot_be_read(
    tmp_path, settings
):
    Image.new("RGB", (40, 30), "red").save(tmp_path / "ceremony.jpg")
    line = {
        "title": "A photographed agreement",
        "agreement_type": "MoU",
        "parties": [{"institution": {"name": "A University", "kind": "university"}}],
        "photos": [{"caption": "The ceremony.", "image_url": "ceremony.jpg"}],
    }
    path = tmp_path / "agreements.jsonl"
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    (tmp_path / "a-file").write_text("not a folder")
    settings.MEDIA_ROOT = tmp_path / "a-file" / "media"

    with pytest.raises(CommandError) as refused:
        call_command("import_agreements", str(path), stdout=io.StringIO())

    assert str(refused.value).startswith(f"cannot import {path}: {settings.MEDIA_ROOT}/")
    assert str(refused.value).endswith(": Not a directory; nothing was imported.")
    assert not Agreement.objects.exists()


@pytest.mark.parametrize(("name", "option"), [("companies", "--days"), ("terms-ending", "--top")])
def test_a_report_given_another_reports_option_is_refused(tmp_path, name, option):
    output = tmp_path / "report.csv"

    with pytest.raises(CommandError, match=f"{option} is an option of .*, not of {name}"):
        call_command("report", name, option, "30", "--output", output, stdout=io.StringIO())

    assert not output.exists()


def test_waiting_for_the_database_a_negative_time_is_refused(monkeypatch):
    tries = []

    class Connection:
        def ensure_connection(self):
            tries.append(1)

    monkeypatch.setattr(wait_for_database, "connection", Connection())

    with pytest.raises(CommandError, match=r"^--timeout -3: give a number of seconds, 0 or more"):
        call_command("wait_for_database", "--timeout", "-3")

    assert tries == []
    call_command("wait_for_database", "--timeout", "0")  # one try
    assert tries == [1]


OUR_COMMANDS = [
    ("backoffice", "demo_accounts"),
    ("backoffice", "erase_person"),
    ("backoffice", "export_agreements"),
    ("backoffice", "generate_data"),
    ("backoffice", "import_agreements"),
    ("backoffice", "report"),
    ("backoffice", "unused_media"),
    ("registry", "new_cache_generation"),
    ("registry", "wait_for_database"),
]


@pytest.mark.parametrize(("app", "name"), OUR_COMMANDS)
def test_every_option_of_our_commands_says_in_its_help_what_it_means(app, name):
    command = load_command_class(app, name)
    assert command.help
    parser = command.create_parser("manage.py", name)
    django_own = set(BaseCommand.base_stealth_options) | {
        action.dest for action in BaseCommand().create_parser("manage.py", "x")._actions
    }

    silent = [
        action.option_strings[0]
        for action in parser._actions
        if action.dest not in django_own and not action.help
    ]

    assert silent == []


def test_a_long_import_says_on_standard_error_how_far_it_has_read(monkeypatch):
    monkeypatch.setattr(import_agreements, "PROGRESS_LINES", 2)  # the demo's two lines
    out, err = io.StringIO(), io.StringIO()

    call_command("import_agreements", str(DEMO), stdout=out, stderr=err)

    assert err.getvalue() == "2 lines read\n"
    assert out.getvalue().startswith("agreements: 2 created")  # the results alone


def test_an_import_of_minus_reads_standard_input(monkeypatch, tmp_path):
    """`export_agreements -o - | import_agreements -`, as cat reads `-`: it looked for a file
    named `-`."""
    (tmp_path / "-").write_text("not JSON\n")  # a file of that name is not what is read
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(DEMO.read_bytes())))
    out = io.StringIO()

    call_command("import_agreements", "-", stdout=out)

    assert out.getvalue().startswith("agreements: 2 created")
    assert Agreement.objects.count() == 2


def test_a_bad_line_on_standard_input_is_told_by_its_number(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"{}\n")))
    err = io.StringIO()

    with pytest.raises(CommandError, match=r"problem\(s\) in standard input; nothing"):
        call_command("import_agreements", "-", stdout=io.StringIO(), stderr=err)

    assert err.getvalue().startswith("line 1: ")


def test_a_long_generation_says_on_standard_error_how_far_it_is(monkeypatch):
    monkeypatch.setattr(generate_data, "BATCH", 1)
    monkeypatch.setattr(generate_data, "PROGRESS", 2)
    out, err = io.StringIO(), io.StringIO()

    call_command("generate_data", "--agreements", "5", stdout=out, stderr=err)

    assert err.getvalue() == "2 of 5 agreements generated\n4 of 5 agreements generated\n"
    assert out.getvalue() == "5 agreements generated.\n"
