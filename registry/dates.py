"""Dates known to the day, the month or only the year.

Press releases often omit the day or the year. A partial date is stored as two columns: the
first day of the period it names, and its precision; it is never shown or exported with a day
or month that nobody reported.
"""

import calendar
import datetime
import re
from dataclasses import dataclass

from django.db import models
from django.db.models import Q
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class DatePrecision(models.TextChoices):
    DAY = "day", _("day")
    MONTH = "month", _("month")
    YEAR = "year", _("year")


ISO_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
# Date formats per language (Django format characters): 3 July 2019 / 2019年7月3日.
DISPLAY_FORMATS = {
    DatePrecision.DAY: pgettext_lazy("date known to the day", "j F Y"),
    DatePrecision.MONTH: pgettext_lazy("date known to the month", "F Y"),
    DatePrecision.YEAR: pgettext_lazy("date known to the year", "Y"),
}


@dataclass(frozen=True)
class PartialDate:
    date: datetime.date
    precision: str

    @classmethod
    def parse(cls, text):
        """Read `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; raise ValueError saying what is wrong."""
        match = ISO_PATTERN.match(text.strip()) if isinstance(text, str) else None
        if not match:
            message = gettext("%(text)s is not a date of the form YYYY-MM-DD, YYYY-MM or YYYY")
            raise ValueError(message % {"text": repr(text)})
        year, month, day = match.groups()
        precision = (
            DatePrecision.DAY if day else DatePrecision.MONTH if month else DatePrecision.YEAR
        )
        try:
            date = datetime.date(int(year), int(month or 1), int(day or 1))
        except ValueError as error:
            message = gettext("%(text)s is not a real date: %(error)s")
            raise ValueError(message % {"text": repr(text), "error": error}) from None
        return cls(date, precision)

    @classmethod
    def from_fields(cls, date, precision):
        return cls(date, precision or DatePrecision.DAY) if date else None

    @property
    def last_day(self):
        """The last day of the period the date names: a term "ending in 2027" may run until
        31 December 2027."""
        return last_day(self.date, self.precision)

    def isoformat(self):
        length = {DatePrecision.DAY: 10, DatePrecision.MONTH: 7, DatePrecision.YEAR: 4}
        return self.date.isoformat()[: length[self.precision]]

    def __str__(self):
        return format_date(self.date, str(DISPLAY_FORMATS[self.precision]))


# The time zone whose day begins first (Kiribati's Line Islands): a day has begun somewhere
# once it has begun there.
EARLIEST_ZONE = datetime.timezone(datetime.timedelta(hours=14))


def latest_today():
    """The latest date it is anywhere now. A date after it has begun nowhere, so nothing can
    have been signed on it; a date up to it may be today where the signing was, whatever the
    site's TIME_ZONE (a signing in Beijing at 07:30 on 8 December is 7 December in UTC)."""
    return timezone.now().astimezone(EARLIEST_ZONE).date()


def truncate(date, precision):
    """The first day of the period a date names at a precision: what is stored."""
    if date is None:
        return None
    if precision == DatePrecision.YEAR:
        return date.replace(month=1, day=1)
    if precision == DatePrecision.MONTH:
        return date.replace(day=1)
    return date


def last_day(date, precision):
    """The last day of the period that starts on `date` at a precision (see truncate)."""
    if precision == DatePrecision.YEAR:
        return date.replace(month=12, day=31)
    if precision == DatePrecision.MONTH:
        return date.replace(day=calendar.monthrange(date.year, date.month)[1])
    return date


def settle_partial_dates(instance, *fields):
    """For a form's clean(): a date given without precision is known to the day; a precision
    without a date is dropped; a date is stored as the first day of its period."""
    for field in fields:
        date, precision = getattr(instance, field), f"{field}_precision"
        if date and not getattr(instance, precision):
            setattr(instance, precision, DatePrecision.DAY)
        if not date:
            setattr(instance, precision, "")
        setattr(instance, field, truncate(date, getattr(instance, precision)))


def precision_constraint(field, model_name):
    """A date and its precision are given together or not at all."""
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True, f"{field}_precision": ""})
        | (Q(**{f"{field}__isnull": False}) & ~Q(**{f"{field}_precision": ""})),
        name=f"{model_name}_{field}_has_precision",
        violation_error_message=_("Give a date together with its precision, or neither."),
    )


class DatePart(models.Func):
    """The year, month or day of a date, as a number, for the database's checks: in SQL both
    databases have built in. Django's Extract calls a function of its own on SQLite, which any
    other client of the file (the sqlite3 shell, a backup tool) lacks, and then cannot write
    to a table whose check needs it."""

    output_field = models.IntegerField()
    # Doubled twice: Func.as_sql formats the template, and the query its parameters.
    SQLITE = {"year": "%%%%Y", "month": "%%%%m", "day": "%%%%d"}

    def __init__(self, expression, part):
        super().__init__(expression, part=part)
        self.part = part

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler, connection, template=f"EXTRACT({self.part.upper()} FROM %(expressions)s)"
        )

    def as_sqlite(self, compiler, connection, **extra):
        pattern = self.SQLITE[self.part]
        return super().as_sql(
            compiler,
            connection,
            template=f"CAST(strftime('{pattern}', %(expressions)s) AS INTEGER)",
        )


def month_number(field):
    """Months since the start of year 0: one number to compare two dates' months by."""
    return DatePart(field, "year") * 12 + DatePart(field, "month")


def period_start_constraint(field, model_name):
    """A partial date's precision is one of DatePrecision, and the date is the first day of
    the period it names (truncate), as the forms and the importer store it: "May 2020" stored
    as 2020-05-17 would sort after 10 May 2020, and a term's end be compared by the wrong day."""
    day, month = DatePart(field, "day"), DatePart(field, "month")
    return models.CheckConstraint(
        condition=Q(**{f"{field}_precision__in": ["", *DatePrecision.values]})
        & (
            Q(**{f"{field}__isnull": True})
            | Q(**{f"{field}_precision": DatePrecision.DAY})
            | (Q(**{f"{field}_precision": DatePrecision.MONTH}) & Q(Exact(day, 1)))
            | (
                Q(**{f"{field}_precision": DatePrecision.YEAR})
                & Q(Exact(day, 1))
                & Q(Exact(month, 1))
            )
        ),
        name=f"{model_name}_{field}_starts_its_period",
        violation_error_message=_(
            "A date known to the month or year is stored as the first day of that period."
        ),
    )


def precision_field():
    return models.CharField(
        _("precision"),
        max_length=5,
        choices=DatePrecision.choices,
        blank=True,
        help_text=_("How much of the date is known; the day (and month) are ignored otherwise."),
    )
