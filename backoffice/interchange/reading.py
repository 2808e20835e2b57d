"""Reading one interchange line into checked values: its keys, texts, dates and choices.

Nothing here touches the database; references to stored records are resolved later. A bad value
is reported and left out, and reading goes on, so that one pass finds every problem of a line.
"""

import functools
import json
import math
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from agreements.models import (
    Agreement,
    AgreementType,
    Participation,
    Photo,
    RelationType,
    Role,
    Source,
)
from labs.models import Lab, LabAgreement
from people.models import Person
from registry.dates import PartialDate, latest_today
from registry.models import FocusArea, Institution, InstitutionKind
from registry.text import shows_something, visible

AGREEMENT_KEYS = {
    "key", "title", "agreement_type", "status", "signed_on", "place", "term", "summary",
    "parties", "participants", "focus_areas", "labs", "sources", "photos", "relations",
    # The address of its page and its dates, which the API adds to each agreement: read and
    # left aside, so that what the API answers imports as the download does (the page and
    # when it was published and updated are the registry's own).
    "url", "published_at", "updated_at",
}  # fmt: skip
TERM_KEYS = {"starts_on", "ends_on", "years"}
PARTY_KEYS = {"institution", "unit"}
INSTITUTION_KEYS = {
    "name", "native_name", "acronym", "aliases", "kind", "country", "city", "website",
    "parent", "ror", "wikidata",
}  # fmt: skip
PARTICIPANT_KEYS = {"person", "role", "title", "organisation", "on_behalf_of"}
PERSON_KEYS = {"key", "name", "native_name", "aliases"}
LAB_KEYS = {"name", "status", "established_on", "hosts", "focus_areas", "description", "outcome"}
SOURCE_KEYS = {"url", "title", "publisher", "published_on", "note"}
PHOTO_KEYS = {"caption", "image_url", "credit"}
RELATION_KEYS = {"type", "key"}

# An escaped UTF-16 surrogate in JSON, or one in a text (only a Python caller can pass that).
SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")
# What an institution object may say about an institution besides its names.
INSTITUTION_DETAILS = ("country", "city", "website", "ror", "wikidata")


@dataclass
class InstitutionRef:
    """A bare name, which only finds a stored institution, or an object, which may also add
    one or fill in what a stored one lacks."""

    path: str
    name: str
    is_object: bool = False
    native_name: str = ""
    acronym: str = ""
    aliases: list = field(default_factory=list)
    details: dict = field(default_factory=dict)  # kind and INSTITUTION_DETAILS, those given
    parent: "InstitutionRef | None" = None

    def names(self):
        """What an object is matched by; not its acronym, which institutions may share."""
        return [name for name in (self.name, self.native_name, *self.aliases) if name]


@dataclass
class PersonRef:
    path: str
    key: str
    name: str
    native_name: str
    aliases: list

    def names(self):
        return [name for name in (self.name, self.native_name, *self.aliases) if name]


@dataclass
class PartyData:
    institution: InstitutionRef | None
    unit: InstitutionRef | None


@dataclass
class ParticipantData:
    path: str
    person: PersonRef
    role: str
    title: str
    organisation: InstitutionRef | None
    on_behalf_of: InstitutionRef | None


@dataclass
class LabData:
    path: str
    name: str
    status: str  # "" when the line does not say
    established: PartialDate | None
    hosts: list  # of InstitutionRef
    focus_areas: list  # of (path, name)
    description: str
    outcome: str  # "" when the line does not say


@dataclass
class PhotoData:
    path: str
    caption: str
    image_url: str
    credit: str


@dataclass
class RelationData:
    path: str
    type: str
    key: str


@dataclass
class AgreementData:
    line: "Line"
    key: str
    agreement_type: str
    fields: dict  # Agreement field values, ready to assign
    parties: list
    participants: list
    focus_areas: list  # of (path, name)
    labs: list
    sources: list  # of dicts of Source field values
    photos: list
    relations: list
    text: str = ""  # the line as read, which an unchanged agreement's export equals


class Line:
    """One line of an import file, and the problems found in it."""

    def __init__(self, number):
        self.number = number
        self.errors = []

    def error(self, path, message):
        """`message` is a whole sentence made with gettext, in the active language; the prefix
        "line N: path: " is the contract's, never translated: spreadsheet.IMPORTER_ERROR reads
        it, and the admin's page tells it in its own language (import_views.Lines.tell)."""
        self.errors.append(f"line {self.number}: {path}: {message}")

    def object(self, value, path, keys, required=()):
        if not isinstance(value, dict):
            self.error(path, _("expected an object"))
            return None
        for key in sorted(value.keys() - keys):
            self.error(at(path, key), _("unknown key"))
        for key in required:
            given = value.get(key)
            if given is None or (isinstance(given, str) and not given.strip()):
                self.error(at(path, key), _("is required"))
        return value

    def text(self, data, key, path, model, field_name=None):
        """A stripped text checked against the model field it goes to; "" if absent or bad."""
        value = data.get(key)
        if value is None:  # most often, in an exported file: no path to make
            return ""
        return self.check_text(value, at(path, key), model, field_name or key)

    def check_text(self, value, path, model, field_name):
        if value is None:
            return ""
        if not isinstance(value, str):
            self.error(path, _("expected text"))
            return ""
        if "\x00" in value:  # JSON may carry one; PostgreSQL refuses it in any text
            self.error(path, _("contains a NUL character (\\u0000)"))
            return ""
        # Invisible, and no spreadsheet holds them (the downloads leave them out).
        if control := ILLEGAL_CHARACTERS_RE.search(value):
            code = f"\\u{ord(control[0]):04x}"
            self.error(path, _("contains a control character (%(code)s)") % {"code": code})
            return ""
        value = value.strip()
        if value and (problem := text_check(model, field_name)(value)):
            self.error(path, problem)
            return ""
        return value

    def choice(self, data, key, path, choices, default=""):
        value = data.get(key)
        if value is None:
            return default
        if value not in choices:
            message = _("%(value)s is not one of: %(choices)s")
            self.error(
                at(path, key), message % {"value": repr(value), "choices": ", ".join(choices)}
            )
            return default
        return value

    def date(self, data, key, path):
        value = data.get(key)
        if value is None:
            return None
        try:
            return PartialDate.parse(value)
        except ValueError as error:
            self.error(at(path, key), str(error))
            return None

    def items(self, data, key, path):
        """The (path, value) of each item of a list."""
        value, path = data.get(key), at(path, key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(path, _("expected a list"))
            return []
        return [(f"{path}[{index}]", item) for index, item in enumerate(value)]

    def names(self, data, key, path, model):
        """A list of names, such as aliases or focus areas, as (path, name)."""
        names = []
        for item_path, item in self.items(data, key, path):
            if isinstance(item, str) and not item.strip():
                self.error(item_path, _("is empty"))
            elif name := self.check_text(item, item_path, model, "name"):
                names.append((item_path, name))
        return names


@functools.cache
def valid_choices(field):
    """The stored values of a field with choices, as a set; empty for a field without."""
    return (
        frozenset(str(key) for key, _label in field.flatchoices) if field.choices else frozenset()
    )


@functools.cache
def text_check(model, field_name):
    """A function giving what is wrong with a (stripped, non-empty) text for a model field, or
    None; made once per field, as a large file checks hundreds of thousands of texts."""
    field = model._meta.get_field(field_name)
    choices = valid_choices(field)

    def clean(value):
        try:
            if value in choices:
                # Field.clean would search the choices again, through every country for a
                # country: the slowest part of reading a large file.
                field.run_validators(field.to_python(value))
            else:
                field.clean(value, None)
        except ValidationError as error:
            return " ".join(error.messages)
        return None

    others = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
    if field.choices or others not in ([], [visible]):
        return clean
    # Most texts are checked for their length alone (and names for showing something), which
    # needs no call to Field.clean unless it fails, and then it says so in Django's words.
    limit, shows = field.max_length or math.inf, bool(others)
    return lambda value: (
        clean(value) if len(value) > limit or (shows and not shows_something(value)) else None
    )


@functools.cache
def values_of(choices):
    """The values of a TextChoices class, once: `Choices.values` builds a new list each time."""
    return choices.values


def holds_lone_surrogate(text, value):
    """Whether the JSON `text`, read as `value`, holds half of a UTF-16 surrogate pair alone
    ("\\ud800"): no character, which no text can be written with. Looked for in the value
    only when the text has an escape of one (as an emoji written in ASCII has two)."""
    if not SURROGATE.search(text):
        return False
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def at(path, key):
    return f"{path}.{key}" if path else key


class RepeatedKey(ValueError):
    pass


def without_repeats(pairs):
    """A JSON object as a dict, refused when it gives a key twice: json.loads would keep the
    last value and lose the other without a word (0.65 s more per 100,000 lines)."""
    value = dict(pairs)
    if len(value) < len(pairs):
        seen = set()
        for key, _value in pairs:
            if key in seen:
                raise RepeatedKey(key)
            seen.add(key)
    return value


def read_line(number, text):
    """The line's problems, and the agreement it describes (None when there is none to read)."""
    line = Line(number)
    try:
        value = json.loads(text, object_pairs_hook=without_repeats)
    except RepeatedKey as error:
        message = _("%(key)s is given twice in one object") % {"key": repr(error.args[0])}
        line.error("agreement", message)
        return line, None
    except ValueError as error:  # JSONDecodeError, or a number of more than 4,300 digits
        line.error("agreement", _("not valid JSON: %(error)s") % {"error": error})
        return line, None
    except RecursionError:
        line.error("agreement", _("not valid JSON here: nested too deeply"))
        return line, None
    if isinstance(value, list):
        line.error(
            "agreement",
            _(
                "expected a JSON object: each agreement is one JSON object on a line of its own "
                "(JSON Lines), not one array of them all"
            ),
        )
        return line, None
    if not isinstance(value, dict):
        line.error("agreement", _("expected a JSON object"))
        return line, None
    if holds_lone_surrogate(text, value):
        line.error("agreement", _("holds half of a UTF-16 surrogate pair, which is no character"))
        return line, None
    data = line.object(value, "", AGREEMENT_KEYS, required=["title", "agreement_type"])
    if not data.get("parties"):
        line.error("parties", _("needs at least one party"))
    agreement = read_agreement(line, data)
    agreement.text = text
    return line, agreement


def read_agreement(line, data):
    term = {} if data.get("term") is None else line.object(data["term"], "term", TERM_KEYS) or {}
    fields = {
        "title": line.text(data, "title", "", Agreement),
        "status": line.choice(
            data, "status", "", values_of(Agreement.Status), Agreement.Status.DRAFT
        ),
        "place": line.text(data, "place", "", Agreement),
        "summary": line.text(data, "summary", "", Agreement),
        "term_years": read_years(line, term),
    }
    dates = {
        "signed_on": line.date(data, "signed_on", ""),
        "starts_on": line.date(term, "starts_on", "term"),
        "ends_on": line.date(term, "ends_on", "term"),
    }
    for name, partial in dates.items():
        fields[name] = partial.date if partial else None
        fields[f"{name}_precision"] = partial.precision if partial else ""
    starts, ends = dates["starts_on"], dates["ends_on"]
    if starts and ends and ends.last_day < starts.date:
        line.error("term.ends_on", _("the term cannot end before it starts"))
    signed, today = dates["signed_on"], timezone.localdate()
    # Refused only once the date has begun nowhere (latest_today); the message names the
    # site's today, which is what its reader goes by.
    if fields["status"] == Agreement.Status.PUBLISHED and signed and signed.date > latest_today():
        line.error(
            "signed_on",
            _(
                "%(date)s is to come (today is %(today)s): a published agreement has been "
                "signed; import it as a draft, or correct the date"
            )
            % {"date": signed.isoformat(), "today": today.isoformat()},
        )
    return AgreementData(
        line=line,
        key=line.text(data, "key", "", Agreement, "slug"),
        agreement_type=line.text(data, "agreement_type", "", AgreementType, "name"),
        fields=fields,
        parties=read_list(line, data, "parties", read_party),
        participants=read_list(line, data, "participants", read_participant),
        focus_areas=line.names(data, "focus_areas", "", FocusArea),
        labs=read_list(line, data, "labs", read_lab),
        sources=read_sources(line, data),
        photos=read_list(line, data, "photos", read_photo),
        relations=read_list(line, data, "relations", read_relation),
    )


def read_sources(line, data):
    sources = read_list(line, data, "sources", read_source)
    # The database keeps an address once per agreement; said here in the file's terms.
    urls = [source["url"] for source in sources if source["url"]]
    for url in sorted({url for url in urls if urls.count(url) > 1}):
        line.error("sources", _("two have the same url: %(url)s") % {"url": url})
    return sources


def read_list(line, data, key, read):
    """The items of a list that could be read; the others have been reported."""
    items = (read(line, value, path) for path, value in line.items(data, key, ""))
    return [item for item in items if item is not None]


def read_years(line, term):
    years = term.get("years")
    if years is None:
        return None
    # bool is an int in Python, but `true` is no number of years.
    if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 32767:
        line.error("term.years", _("expected a whole number of years, at least 1"))
        return None
    return years


def read_institution(line, value, path):
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            line.error(path, _("is empty"))
        name = line.check_text(value, path, Institution, "name")
        return InstitutionRef(path, name) if name else None
    if not isinstance(value, dict):
        line.error(path, _("expected a name or an object"))
        return None
    data = line.object(value, path, INSTITUTION_KEYS, required=["name"])
    name = line.text(data, "name", path, Institution) if data else ""
    if not name:
        return None
    details = {key: line.text(data, key, path, Institution) for key in INSTITUTION_DETAILS}
    details["kind"] = line.choice(data, "kind", path, values_of(InstitutionKind))
    return InstitutionRef(
        path,
        name,
        is_object=True,
        native_name=line.text(data, "native_name", path, Institution),
        acronym=line.text(data, "acronym", path, Institution),
        aliases=[alias for _path, alias in line.names(data, "aliases", path, Institution)],
        details={key: value for key, value in details.items() if value},
        parent=read_institution(line, data.get("parent"), at(path, "parent")),
    )


def read_party(line, value, path):
    data = line.object(value, path, PARTY_KEYS, required=["institution"])
    if data is None:
        return None
    return PartyData(
        institution=read_institution(line, data.get("institution"), at(path, "institution")),
        unit=read_institution(line, data.get("unit"), at(path, "unit")),
    )


def read_person(line, value, path):
    data = line.object(value, path, PERSON_KEYS, required=["name"])
    name = line.text(data, "name", path, Person) if data else ""
    if not name:
        return None
    return PersonRef(
        path,
        key=line.text(data, "key", path, Person, "slug"),
        name=name,
        native_name=line.text(data, "native_name", path, Person),
        aliases=[alias for _path, alias in line.names(data, "aliases", path, Person)],
    )


def read_participant(line, value, path):
    data = line.object(value, path, PARTICIPANT_KEYS, required=["person", "role"])
    if data is None:
        return None
    role = line.choice(data, "role", path, values_of(Role))
    on_behalf_of = read_institution(line, data.get("on_behalf_of"), at(path, "on_behalf_of"))
    if on_behalf_of and role and role != Role.SIGNATORY:
        line.error(at(path, "on_behalf_of"), _("only a signatory signs on behalf of a party"))
        on_behalf_of = None
    person = read_person(line, data["person"], at(path, "person")) if data.get("person") else None
    if person is None or not role:
        return None
    return ParticipantData(
        path,
        person=person,
        role=role,
        title=line.text(data, "title", path, Participation),
        organisation=read_institution(line, data.get("organisation"), at(path, "organisation")),
        on_behalf_of=on_behalf_of,
    )


def read_lab(line, value, path):
    data = line.object(value, path, LAB_KEYS, required=["name"])
    name = line.text(data, "name", path, Lab) if data else ""
    if not name:
        return None
    hosts = [
        read_institution(line, host, host_path)
        for host_path, host in line.items(data, "hosts", path)
    ]
    return LabData(
        path,
        name=name,
        status=line.choice(data, "status", path, values_of(Lab.Status)),
        established=line.date(data, "established_on", path),
        hosts=[host for host in hosts if host],
        focus_areas=line.names(data, "focus_areas", path, FocusArea),
        description=line.text(data, "description", path, Lab),
        outcome=line.choice(data, "outcome", path, values_of(LabAgreement.Outcome)),
    )


def read_source(line, value, path):
    data = line.object(value, path, SOURCE_KEYS)
    if data is None:
        return None
    published = line.date(data, "published_on", path)
    return {
        "url": line.text(data, "url", path, Source),
        "title": line.text(data, "title", path, Source),
        "publisher": line.text(data, "publisher", path, Source),
        "published_on": published.date if published else None,
        "published_on_precision": published.precision if published else "",
        "note": line.text(data, "note", path, Source),
    }


def read_photo(line, value, path):
    data = line.object(value, path, PHOTO_KEYS)
    if data is None:
        return None
    return PhotoData(
        path,
        caption=line.text(data, "caption", path, Photo),
        image_url=line.text(data, "image_url", path, Photo),
        credit=line.text(data, "credit", path, Photo),
    )


def read_relation(line, value, path):
    data = line.object(value, path, RELATION_KEYS, required=["type", "key"])
    if data is None:
        return None
    relation = RelationData(
        path,
        type=line.choice(data, "type", path, values_of(RelationType)),
        key=line.text(data, "key", path, Agreement, "slug"),
    )
    return relation if relation.type and relation.key else None
