"""Importing agreements in the admin (/admin/import/): upload an interchange file or a
spreadsheet, see what the import would do (a dry run of the one importer), then confirm.

Between preview and confirmation the upload is kept in the session (compressed), which every
app server reads, never in a public folder. The confirmation imports the same content in one
transaction, and keeps it only if it does exactly what the preview showed; if the registry
changed meanwhile so that it would not, nothing is imported and the new preview is shown.
"""

import base64
import json
import logging
import secrets
import zlib
from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, pgettext
from django.views.decorators.http import require_POST

from agreements.models import Agreement
from backoffice import spreadsheet
from backoffice.interchange import import_lines
from backoffice.report_files import FORMATS as FILE_TYPES
from registry.logs import staff

logger = logging.getLogger(__name__)

ADD_PERMISSION = "agreements.add_agreement"
# Uploads larger than this are for the command line (manage.py import_agreements).
MAX_BYTES = 5 * 1024 * 1024
KINDS = {
    ".jsonl": "interchange",
    ".ndjson": "interchange",
    ".json": "interchange",
    ".csv": "csv",
    ".xlsx": "xlsx",
}
# The most stored agreements one upload may change: each is exported before and after its line
# (some 35 ms on PostgreSQL), and the preview and the import must each be done within the 30 s
# the server gives a page (bin/start). The command has no such limit.
MAX_UPDATES = 500
SESSION_KEY = "agreement_imports"
KEPT = 3  # previews kept in a session at once (several tabs); older ones are dropped
KINDS_SHOWN = ("institutions", "people", "focus areas", "labs")
# What the preview says of an agreement (its outcome) and of the records a line names (by kind
# and outcome, with their names): the importer's outcomes are words of its own, compared
# between preview and confirmation, and translated only when shown.
OUTCOMES_SHOWN = {
    "created": gettext_noop("created"),
    "updated": gettext_noop("updated"),
    "unchanged": gettext_noop("unchanged"),
}
RECORDS_SHOWN = {
    ("institutions", "created"): gettext_noop("institutions created: %(names)s"),
    ("institutions", "updated"): gettext_noop("institutions updated: %(names)s"),
    ("institutions", "matched"): gettext_noop("institutions matched: %(names)s"),
    ("people", "created"): gettext_noop("people created: %(names)s"),
    ("people", "updated"): gettext_noop("people updated: %(names)s"),
    ("people", "matched"): gettext_noop("people matched: %(names)s"),
    ("focus areas", "created"): gettext_noop("focus areas created: %(names)s"),
    ("focus areas", "matched"): gettext_noop("focus areas matched: %(names)s"),
    ("labs", "created"): gettext_noop("labs created: %(names)s"),
    ("labs", "updated"): gettext_noop("labs updated: %(names)s"),
    ("labs", "matched"): gettext_noop("labs matched: %(names)s"),
}


def import_view(view):
    """An admin page (signed-in staff, else the admin's login) for those who may add
    agreements (else 403). Publishing and changing stored agreements are checked line by
    line by the importer, against the same user."""
    return admin.site.admin_view(permission_required(ADD_PERMISSION, raise_exception=True)(view))


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "An interchange file (.jsonl), or a spreadsheet (.csv or .xlsx) with one row per "
            "agreement. At most 5 MB."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise ValidationError(
                _("The file is %(size).1f MB; at most %(limit)d MB can be uploaded.")
                % {"size": upload.size / 1024 / 1024, "limit": MAX_BYTES // 1024 // 1024}
            )
        if Path(upload.name).suffix.lower() not in KINDS:
            raise ValidationError(
                _("“%(name)s” is not a .jsonl, .csv or .xlsx file.") % {"name": upload.name}
            )
        return upload


@dataclass
class Upload:
    name: str
    content: bytes

    @property
    def kind(self):
        return KINDS[Path(self.name).suffix.lower()]

    def read(self):
        """The file as interchange lines: a spreadsheet is translated (spreadsheet.py), an
        interchange file is that already."""
        if self.kind == "interchange":
            lines = self.content.splitlines()
            if sum(1 for line in lines if line.strip()) > spreadsheet.MAX_ROWS:
                message = _(
                    "More than %(lines)d lines: split the file, or import it with "
                    "manage.py import_agreements."
                )
                return Lines(problems=[message % {"lines": spreadsheet.MAX_ROWS}])
            return Lines(lines)
        read = spreadsheet.read_csv if self.kind == "csv" else spreadsheet.read_xlsx
        try:
            return Lines(sheet=read(self.content))
        except spreadsheet.SpreadsheetError as error:
            return Lines(problems=[str(error)])

    def as_session(self, preview):
        packed = base64.b64encode(zlib.compress(self.content)).decode("ascii")
        return {"name": self.name, "content": packed, "preview": preview}

    @classmethod
    def from_session(cls, stored):
        return cls(stored["name"], zlib.decompress(base64.b64decode(stored["content"])))


@dataclass
class Lines:
    lines: list = ()
    sheet: spreadsheet.Sheet | None = None
    problems: list = ()  # of reading the file

    def __post_init__(self):
        if self.sheet is not None:
            self.lines, self.problems = self.sheet.lines, self.sheet.errors

    def tell(self, error):
        """An importer's problem in the file's own terms: by row and column, for a sheet; by
        line and field, in the language of the page, for an interchange file (the importer's
        "line N: path: " is the contract's, in English, as the command prints it)."""
        if self.sheet is not None:
            return self.sheet.tell(error)
        match = spreadsheet.IMPORTER_ERROR.match(error)
        if not match:
            return error
        return _("line %(line)s: %(path)s: %(message)s") % {
            "line": match["line"],
            "path": match["path"],
            "message": match["message"],
        }

    def fields(self, keys):
        """The keys of an agreement's record that a line changes, as the file names them: by
        its columns, for a spreadsheet."""
        if self.sheet is None:
            return keys
        return list(dict.fromkeys(spreadsheet.COLUMNS_OF.get(key, key) for key in keys))

    def place(self, number):
        """Where a line of the import is in the file: its row, for a spreadsheet."""
        if self.sheet is None:
            return _("line %(number)s") % {"number": number}
        return _("row %(number)s") % {"number": self.sheet.rows[number - 1]}


def too_many_updates(lines):
    """Why the page cannot import these lines in time, if it cannot (MAX_UPDATES)."""
    keys = set()
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the importer says what is wrong with it
        if isinstance(record, dict) and isinstance(record.get("key"), str):
            keys.add(record["key"].strip())
    stored = Agreement.objects.filter(slug__in=keys).count() if keys else 0
    if stored <= MAX_UPDATES:
        return None
    return _(
        "The file changes %(count)d stored agreements; this page takes at most %(limit)d at a "
        "time. Split the file, or import it with manage.py import_agreements."
    ) % {"count": stored, "limit": MAX_UPDATES}


def plain(by_line):
    """Report.by_line as the session's JSON keeps it, so that two can be compared."""
    return [[number, summary] for number, summary in by_line]


@import_view
def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method != "POST" or not form.is_valid():
        return render_form(request, form)
    file = form.cleaned_data["file"]
    chosen = Upload(file.name, file.read())
    lines = chosen.read()
    if lines.problems:
        log(request, chosen, f"refused: {lines.problems[0]}", dry_run=True)
        return render_form(request, form, lines.problems)
    if problem := too_many_updates(lines.lines):
        log(request, chosen, f"refused: {problem}", dry_run=True)
        return render_form(request, form, [problem])
    report = import_lines(lines.lines, dry_run=True, user=request.user, details=True)
    log(request, chosen, report.logged(), dry_run=True)
    if report.errors:
        return render_form(request, form, [lines.tell(error) for error in report.errors])
    token = keep(request, chosen, plain(report.by_line()))
    return render_preview(request, chosen, token, report, lines)


@require_POST
@import_view
def confirm(request):
    stored = request.session.get(SESSION_KEY, {}).get(request.POST.get("token", ""))
    if stored is None:
        messages.error(request, _("This preview has expired. Upload the file again."))
        return redirect("agreement_import:upload")
    chosen = Upload.from_session(stored)
    lines = chosen.read()
    with transaction.atomic():
        report = import_lines(lines.lines, user=request.user, details=True)
        changed = not report.errors and plain(report.by_line()) != stored["preview"]
        if changed:
            transaction.set_rollback(True)
    forget(request, request.POST["token"])
    log(request, chosen, "not imported, changed since the preview" if changed else report.logged())
    if report.errors:
        problems = [
            _("The registry has changed since the preview, and the file no longer imports:")
        ] + [lines.tell(error) for error in report.errors]
        return render_form(request, UploadForm(), problems)
    if changed:
        token = keep(request, chosen, plain(report.by_line()))
        warning = _(
            "The registry has changed since the preview, so the import would no longer do "
            "what it showed. Nothing was imported. This is what it would do now:"
        )
        return render_preview(request, chosen, token, report, lines, warning=warning)
    counts = report.counts("agreements")
    messages.success(
        request,
        _(
            "Imported %(name)s: %(created)d agreements created, %(updated)d updated, "
            "%(same)d unchanged."
        )
        % {
            "name": chosen.name,
            "created": counts["created"],
            "updated": counts["updated"],
            "same": counts["unchanged"],
        },
    )
    return redirect("admin:agreements_agreement_changelist")


@import_view
def template(request, format):
    if format == "csv":
        content, content_type = spreadsheet.template_csv(), "text/csv; charset=utf-8"
    elif format == "xlsx":
        content, content_type = spreadsheet.template_xlsx(), FILE_TYPES["xlsx"]
    else:
        raise Http404
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="agreements-template.{format}"'
    return response


def log(request, chosen, outcome, *, dry_run=False):
    # The file's name as Python writes it: one a browser sends may hold a line break.
    logger.info(
        "Import%s of %r by %s: %s",
        " (dry run)" if dry_run else "",
        chosen.name,
        staff(request.user),
        outcome,
    )


def keep(request, chosen, preview):
    imports = request.session.get(SESSION_KEY, {})
    for old in list(imports)[: max(0, len(imports) - KEPT + 1)]:
        del imports[old]
    token = secrets.token_urlsafe(16)
    imports[token] = chosen.as_session(preview)
    request.session[SESSION_KEY] = imports
    return token


def forget(request, token):
    imports = request.session.get(SESSION_KEY, {})
    imports.pop(token, None)
    request.session[SESSION_KEY] = imports


def render_form(request, form, problems=()):
    # After a refusal, focus goes where it is told (a screen reader reads it on arrival, not
    # only the page's title): to the field, read with its error; or to the list of the
    # file's problems (import_form.html), which the field is then read with too.
    attrs = form.fields["file"].widget.attrs
    if problems:
        attrs["aria-describedby"] = f"{form['file'].auto_id}_helptext import-problems"
    elif form.errors:
        attrs["autofocus"] = True
    context = {
        **admin.site.each_context(request),
        "title": _("Import agreements"),
        "form": form,
        "problems": problems,
        "columns": spreadsheet.COLUMNS,
        "max_rows": spreadsheet.MAX_ROWS,
    }
    return render(request, "admin/backoffice/import_form.html", context)


def render_preview(request, chosen, token, report, lines, *, warning=""):
    lines_done = []
    for number, summary in report.by_line():
        agreement = summary.get("agreements", {})
        outcome, labels = next(iter(agreement.items()), ("", [""]))
        records = [
            (kind, outcome_of, labels_of)
            for kind in KINDS_SHOWN
            for outcome_of, labels_of in sorted(summary.get(kind, {}).items())
        ]
        outcome_shown = _(OUTCOMES_SHOWN[outcome]) if outcome else ""
        if changed := summary.get("changed"):
            # What of a stored agreement the line changes, by the file's keys (as problems
            # name them): "updated: title, summary".
            fields = pgettext("between the names of fields", ", ").join(lines.fields(changed))
            outcome_shown = _("%(label)s: %(value)s") % {"label": outcome_shown, "value": fields}
        lines_done.append(
            {
                "place": lines.place(number),
                "agreement": labels[0],
                "outcome": outcome,
                "changed": changed or [],
                "outcome_shown": outcome_shown,
                "records": records,
                "records_shown": [
                    _(RECORDS_SHOWN[kind, outcome_of]) % {"names": "; ".join(labels_of)}
                    for kind, outcome_of, labels_of in records
                ],
            }
        )
    context = {
        **admin.site.each_context(request),
        "title": _("Import agreements: preview"),
        "name": chosen.name,
        "token": token,
        "summary": report.totals(),
        "lines": lines_done,
        "withdrawn": sorted(report.withdrawn),
        "added_again": report.added_again,
        "warning": warning,
        "confirm_url": reverse("agreement_import:confirm"),
    }
    return render(request, "admin/backoffice/import_preview.html", context)
