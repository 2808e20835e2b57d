"""Finding the stored records that a line names (interchange.md, "Institution references"),
adding those it introduces, and giving stored ones what they lack without overwriting a value.

Names are compared in their normalised form (registry.text.normalise_name): case, accents,
full-width or half-width forms and surrounding spaces do not matter. Every resolver reads what
is stored once and keeps it in memory, with what the file has introduced so far: a line names
records without a query. New records are not written at once but handed to `rows`
(writing.Rows), which writes them in bulk with the rest of their batch; a change to a record
that is still waiting there is made to it in memory, a change to a stored one is saved.
"""

import functools
from collections import defaultdict

from django.utils.text import slugify
from django.utils.translation import gettext as _

from backoffice.interchange.reading import at
from labs.models import Lab, LabHost
from people.models import Person, PersonAlias
from registry.models import FocusArea, Institution, InstitutionAlias
from registry.text import normalise_name as normalise_any_name

SLUG_TEXT_LENGTH = 80

CREATED, UPDATED, MATCHED = "created", "updated", "matched"


class Names:
    """Records (by primary key) under each normalised name they are known by."""

    def __init__(self):
        self.records = defaultdict(set)
        self.names = defaultdict(set)

    def add(self, pk, *names):
        for name in filter(None, names):
            self.records[normalise_name(name)].add(pk)
            self.names[pk].add(normalise_name(name))

    def find(self, *names):
        return set().union(*(self.records.get(normalise_name(name), ()) for name in names))

    def knows(self, pk, name):
        return normalise_name(name) in self.names[pk]


# A file names the same institutions and people on many lines: each name is normalised once.
normalise_name = functools.lru_cache(maxsize=500_000)(normalise_any_name)


def free_slug(model, text, taken, *, max_length=SLUG_TEXT_LENGTH):
    """registry.text.unique_slug against the slugs in `taken` (all stored ones, and those of
    this import so far): no query per record."""
    base = slugify(text, allow_unicode=True)[:max_length].strip("-") or model._meta.model_name
    slug, number = base, 2
    while slug in taken:
        slug = f"{base[: max_length - 4]}-{number}"
        number += 1
    return slug


def only(pks, records):
    (pk,) = pks
    return records[pk]


def describe(pks, records):
    return ", ".join(sorted(f"{records[pk].name} ({records[pk].slug})" for pk in pks))


class Institutions:
    def __init__(self, report, rows):
        self.report = report
        self.rows = rows
        self.by_pk = {}
        self.slugs = set()
        self.by_ror = {}
        self.names = Names()  # official names, native names and aliases
        self.acronyms = Names()
        for institution in Institution.objects.prefetch_related("aliases"):
            self.remember(institution, *(alias.name for alias in institution.aliases.all()))

    def remember(self, institution, *aliases):
        self.by_pk[institution.pk] = institution
        self.slugs.add(institution.slug)
        if institution.ror:
            self.by_ror[institution.ror] = institution.pk
        self.names.add(institution.pk, institution.name, institution.native_name, *aliases)
        self.acronyms.add(institution.pk, institution.acronym)

    def matches(self, ref):
        """The primary keys of the stored institutions a reference names."""
        if not ref.is_object:
            return self.names.find(ref.name) | self.acronyms.find(ref.name)
        if ref.details.get("ror") in self.by_ror:
            return {self.by_ror[ref.details["ror"]]}
        return self.names.find(*ref.names())

    def resolve(self, ref, line, *, within=None):
        """The institution a reference names, or adds; None once the problem is reported.

        Units of one name are told apart by what they are part of ("Tianjin Branch" of two
        companies): an object giving a parent names one within that parent (or one part of
        nothing yet, which becomes part of it), and a name given as a party's unit, one
        `within` the party's institution. Otherwise the registry's own export could not be
        imported again once two units shared a name."""
        parent = self.resolve(ref.parent, line) if ref.parent else None
        pks = self.matches(ref)
        if parent is not None:
            pks = {pk for pk in pks if self.placed_within(parent, pk)}
        elif within is not None and len(pks) > 1:
            pks = {pk for pk in pks if pk != within.pk and self.contains(within, self.by_pk[pk])}
        if len(pks) > 1:
            message = _("%(name)s matches more than one institution: %(records)s")
            line.error(
                ref.path, message % {"name": repr(ref.name), "records": describe(pks, self.by_pk)}
            )
            return None
        if pks:
            return self.enrich(only(pks, self.by_pk), ref, parent, line)
        if not ref.is_object:
            message = _(
                "no institution is known as %(name)s; to add one, give an object with name and kind"
            )
            line.error(ref.path, message % {"name": repr(ref.name)})
            return None
        if "kind" not in ref.details:
            message = _("is required to add the institution %(name)s") % {"name": repr(ref.name)}
            line.error(at(ref.path, "kind"), message)
            return None
        institution = self.rows.add(
            Institution(
                name=ref.name,
                slug=free_slug(Institution, ref.name, self.slugs),
                native_name=ref.native_name,
                acronym=ref.acronym,
                parent=parent,
                **ref.details,
            )
        )
        aliases = list(dict.fromkeys(ref.aliases))
        for alias in aliases:
            self.rows.add(InstitutionAlias(institution=institution, name=alias))
        self.remember(institution, *aliases)
        self.report.record("institutions", institution, CREATED)
        return institution

    def enrich(self, institution, ref, parent, line):
        """Give a stored institution what a reference says and it lacks: a native name or
        acronym where it has none, other names as aliases, empty details and parent. A bare
        name says nothing but the name it was found by."""
        changed = False
        for field in ("native_name", "acronym"):
            name = getattr(ref, field)
            if name and not getattr(institution, field) and not self.knows(institution, name):
                setattr(institution, field, name)
                changed = True
        for field, value in ref.details.items():
            # That ROR id may be another institution's: this one was found by name.
            if not getattr(institution, field) and not (field == "ror" and value in self.by_ror):
                setattr(institution, field, value)
                changed = True
        if parent and not institution.parent_id:
            changed |= self.set_parent(institution, parent, ref.parent.path, line)
        if changed:
            self.save(institution)
            self.remember(institution)
        for name in (ref.name, ref.native_name, ref.acronym, *ref.aliases):
            if name and not self.knows(institution, name):
                self.rows.add(InstitutionAlias(institution=institution, name=name))
                self.names.add(institution.pk, name)
                changed = True
        self.report.record("institutions", institution, UPDATED if changed else MATCHED)
        return institution

    def attach_unit(self, unit, institution, path, line):
        """A party's unit must be part of its institution; a unit that is part of nothing yet
        becomes part of it."""
        if unit == institution:
            line.error(path, _("is the party's institution itself, not a unit of it"))
        elif self.contains(institution, unit):
            return
        elif unit.parent_id:
            message = _("%(unit)s is not part of %(institution)s")
            line.error(path, message % {"unit": unit, "institution": institution})
        elif self.set_parent(unit, institution, path, line):
            self.save(unit)
            self.report.record("institutions", unit, UPDATED)

    def save(self, institution):
        if not self.rows.is_new(institution):
            institution.save()

    def set_parent(self, institution, parent, path, line):
        if self.contains(institution, parent):
            message = _("%(parent)s is itself part of %(institution)s")
            line.error(path, message % {"parent": parent, "institution": institution})
            return False
        institution.parent = parent
        return True

    def placed_within(self, parent, pk):
        institution = self.by_pk[pk]
        return institution.parent_id is None or self.contains(parent, institution)

    def contains(self, outer, inner):
        """Whether `inner` is `outer` or part of it, however deep."""
        pk = inner.pk
        while pk is not None:
            if pk == outer.pk:
                return True
            pk = self.by_pk[pk].parent_id
        return False

    def knows(self, institution, name):
        return self.names.knows(institution.pk, name) or self.acronyms.knows(institution.pk, name)


class People:
    def __init__(self, report, rows):
        self.report = report
        self.rows = rows
        self.by_pk = {}
        self.by_key = {}
        self.names = Names()
        for person in Person.objects.prefetch_related("aliases"):
            self.remember(person, *(alias.name for alias in person.aliases.all()))

    def remember(self, person, *aliases):
        self.by_pk[person.pk] = person
        self.by_key[person.slug] = person.pk
        self.names.add(person.pk, person.name, person.native_name, *aliases)

    def resolve(self, ref, line):
        """The person a reference names: by key when it has one (a key not stored yet adds the
        person under it), otherwise by name, native name and aliases."""
        if ref.key:
            pks = {self.by_key[ref.key]} if ref.key in self.by_key else set()
        else:
            pks = self.names.find(*ref.names())
        if len(pks) > 1:
            message = _(
                "%(name)s matches more than one person: %(records)s; give the key of the one you "
                "mean"
            )
            line.error(
                ref.path, message % {"name": repr(ref.name), "records": describe(pks, self.by_pk)}
            )
            return None
        if pks:
            return self.enrich(only(pks, self.by_pk), ref)
        slug = ref.key or free_slug(Person, ref.name, self.by_key)
        person = self.rows.add(Person(name=ref.name, slug=slug, native_name=ref.native_name))
        aliases = list(dict.fromkeys(ref.aliases))
        for alias in aliases:
            self.rows.add(PersonAlias(person=person, name=alias))
        self.remember(person, *aliases)
        self.report.record("people", person, CREATED)
        return person

    def enrich(self, person, ref):
        """As for institutions: a native name where there is none, other names as aliases."""
        changed = False
        native_name = ref.native_name
        if native_name and not person.native_name and not self.names.knows(person.pk, native_name):
            person.native_name = native_name
            if not self.rows.is_new(person):
                person.save()
            self.remember(person)
            changed = True
        for name in (ref.name, ref.native_name, *ref.aliases):
            if name and not self.names.knows(person.pk, name):
                self.rows.add(PersonAlias(person=person, name=name))
                self.names.add(person.pk, name)
                changed = True
        self.report.record("people", person, UPDATED if changed else MATCHED)
        return person


class FocusAreas:
    def __init__(self, report, rows):
        self.report = report
        self.rows = rows
        self.by_pk = {}
        self.slugs = set()
        self.names = Names()
        for area in FocusArea.objects.all():
            self.remember(area)

    def remember(self, area):
        self.by_pk[area.pk] = area
        self.slugs.add(area.slug)
        self.names.add(area.pk, area.name)

    def resolve(self, name, path, line):
        pks = self.names.find(name)
        if len(pks) > 1:
            message = _("%(name)s matches more than one focus area: %(records)s")
            line.error(path, message % {"name": repr(name), "records": describe(pks, self.by_pk)})
            return None
        if pks:
            area = only(pks, self.by_pk)
            self.report.record("focus areas", area, MATCHED)
            return area
        slug = free_slug(FocusArea, name, self.slugs, max_length=100)
        area = self.rows.add(FocusArea(name=name, slug=slug))
        self.remember(area)
        self.report.record("focus areas", area, CREATED)
        return area


class Labs:
    """Labs, found by name. Several agreements may name one lab: each line may give it hosts and
    focus areas it lacks and fill its empty fields, but never changes a stored value (its
    status included)."""

    def __init__(self, report, rows):
        self.report = report
        self.rows = rows
        self.by_pk = {}
        self.slugs = set()
        self.names = Names()
        self.hosts = {}  # lab pk -> {institution pk: position}
        self.focus_areas = {}  # lab pk -> {focus area pk}
        for lab in Lab.objects.prefetch_related("labhost_set", "focus_areas"):
            self.remember(lab, lab.labhost_set.all(), lab.focus_areas.all())
        self.new_focus_areas = {}  # new lab pk -> its focus areas, written with it

    def remember(self, lab, hosts=(), focus_areas=()):
        self.by_pk[lab.pk] = lab
        self.slugs.add(lab.slug)
        self.names.add(lab.pk, lab.name)
        self.hosts[lab.pk] = {host.institution_id: host.position for host in hosts}
        self.focus_areas[lab.pk] = {area.pk for area in focus_areas}

    def resolve(self, data, hosts, focus_areas, line):
        pks = self.names.find(data.name)
        if len(pks) > 1:
            message = _("matches more than one lab: %(records)s") % {
                "records": describe(pks, self.by_pk)
            }
            line.error(at(data.path, "name"), message)
            return None
        if not pks:
            lab = self.rows.add(
                Lab(
                    name=data.name,
                    slug=free_slug(Lab, data.name, self.slugs, max_length=100),
                    status=data.status or Lab.Status.PROPOSED,
                    established_on=data.established.date if data.established else None,
                    established_on_precision=(
                        data.established.precision if data.established else ""
                    ),
                    description=data.description,
                )
            )
            self.remember(lab)
            self.new_focus_areas[lab.pk] = []
            self.rows.link(lab, "focus_areas", self.new_focus_areas[lab.pk])
            self.add(lab, hosts, focus_areas)
            self.report.record("labs", lab, CREATED)
            return lab
        lab = only(pks, self.by_pk)
        changed = False
        if data.established and not lab.established_on:
            lab.established_on = data.established.date
            lab.established_on_precision = data.established.precision
            changed = True
        if data.description and not lab.description:
            lab.description = data.description
            changed = True
        if changed and not self.rows.is_new(lab):
            lab.save()
        changed |= self.add(lab, hosts, focus_areas)
        self.report.record("labs", lab, UPDATED if changed else MATCHED)
        return lab

    def add(self, lab, hosts, focus_areas):
        """Add the hosts (after the stored ones) and focus areas a lab lacks; whether any."""
        stored_hosts = self.hosts[lab.pk]
        new_hosts = [host for host in dict.fromkeys(hosts) if host.pk not in stored_hosts]
        for host in new_hosts:
            position = max(stored_hosts.values(), default=-1) + 1
            self.rows.add(LabHost(lab=lab, institution=host, position=position))
            stored_hosts[host.pk] = position
        stored_areas = self.focus_areas[lab.pk]
        new_areas = [area for area in dict.fromkeys(focus_areas) if area.pk not in stored_areas]
        if new_areas and self.rows.is_new(lab):
            self.new_focus_areas[lab.pk] += new_areas
        elif new_areas:
            lab.focus_areas.add(*new_areas)
        stored_areas.update(area.pk for area in new_areas)
        return bool(new_hosts or new_areas)
