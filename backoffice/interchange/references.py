"""Finding the stored records that a line names (interchange.md, "Institution references"),
adding those it introduces, and giving stored ones what they lack without overwriting a value.

Names are compared in their normalised form (registry.text.normalise_name): case, accents,
full-width or half-width forms and surrounding spaces do not matter. Every resolver keeps the
names in memory, as the file may introduce a record on one line and name it on the next.
"""

from collections import defaultdict

from backoffice.interchange.reading import at
from labs.models import Lab, LabHost
from people.models import Person, PersonAlias
from registry.models import FocusArea, Institution, InstitutionAlias
from registry.text import normalise_name, unique_slug

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


def only(pks, records):
    (pk,) = pks
    return records[pk]


def describe(pks, records):
    return ", ".join(sorted(f"{records[pk].name} ({records[pk].slug})" for pk in pks))


class Institutions:
    def __init__(self, report):
        self.report = report
        self.by_pk = {}
        self.by_ror = {}
        self.names = Names()  # official names, native names and aliases
        self.acronyms = Names()
        for institution in Institution.objects.prefetch_related("aliases"):
            self.remember(institution, *(alias.name for alias in institution.aliases.all()))

    def remember(self, institution, *aliases):
        self.by_pk[institution.pk] = institution
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

    def resolve(self, ref, line):
        """The institution a reference names, or adds; None once the problem is reported."""
        parent = self.resolve(ref.parent, line) if ref.parent else None
        pks = self.matches(ref)
        if len(pks) > 1:
            message = f"matches more than one institution: {describe(pks, self.by_pk)}"
            line.error(ref.path, f"{ref.name!r} {message}")
            return None
        if pks:
            return self.enrich(only(pks, self.by_pk), ref, parent, line)
        if not ref.is_object:
            line.error(
                ref.path,
                f"no institution is known as {ref.name!r}; "
                "to add one, give an object with name and kind",
            )
            return None
        if "kind" not in ref.details:
            line.error(at(ref.path, "kind"), f"is required to add the institution {ref.name!r}")
            return None
        institution = Institution.objects.create(
            name=ref.name,
            slug=unique_slug(Institution, ref.name),
            native_name=ref.native_name,
            acronym=ref.acronym,
            parent=parent,
            **ref.details,
        )
        aliases = list(dict.fromkeys(ref.aliases))
        for alias in aliases:
            InstitutionAlias.objects.create(institution=institution, name=alias)
        self.remember(institution, *aliases)
        self.report.record("institutions", institution.pk, CREATED)
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
            institution.save()
            self.remember(institution)
        for name in (ref.name, ref.native_name, ref.acronym, *ref.aliases):
            if name and not self.knows(institution, name):
                InstitutionAlias.objects.create(institution=institution, name=name)
                self.names.add(institution.pk, name)
                changed = True
        self.report.record("institutions", institution.pk, UPDATED if changed else MATCHED)
        return institution

    def attach_unit(self, unit, institution, path, line):
        """A party's unit must be part of its institution; a unit that is part of nothing yet
        becomes part of it."""
        if unit == institution:
            line.error(path, "is the party's institution itself, not a unit of it")
        elif self.contains(institution, unit):
            return
        elif unit.parent_id:
            line.error(path, f"{unit} is not part of {institution}")
        elif self.set_parent(unit, institution, path, line):
            unit.save()
            self.report.record("institutions", unit.pk, UPDATED)

    def set_parent(self, institution, parent, path, line):
        if self.contains(institution, parent):
            line.error(path, f"{parent} is itself part of {institution}")
            return False
        institution.parent = parent
        return True

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
    def __init__(self, report):
        self.report = report
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
            line.error(
                ref.path,
                f"{ref.name!r} matches more than one person: {describe(pks, self.by_pk)}; "
                "give the key of the one you mean",
            )
            return None
        if pks:
            return self.enrich(only(pks, self.by_pk), ref)
        person = Person.objects.create(
            name=ref.name,
            slug=ref.key or unique_slug(Person, ref.name),
            native_name=ref.native_name,
        )
        aliases = list(dict.fromkeys(ref.aliases))
        for alias in aliases:
            PersonAlias.objects.create(person=person, name=alias)
        self.remember(person, *aliases)
        self.report.record("people", person.pk, CREATED)
        return person

    def enrich(self, person, ref):
        """As for institutions: a native name where there is none, other names as aliases."""
        changed = False
        native_name = ref.native_name
        if native_name and not person.native_name and not self.names.knows(person.pk, native_name):
            person.native_name = native_name
            person.save()
            self.remember(person)
            changed = True
        for name in (ref.name, ref.native_name, *ref.aliases):
            if name and not self.names.knows(person.pk, name):
                PersonAlias.objects.create(person=person, name=name)
                self.names.add(person.pk, name)
                changed = True
        self.report.record("people", person.pk, UPDATED if changed else MATCHED)
        return person


class FocusAreas:
    def __init__(self, report):
        self.report = report
        self.by_pk = {}
        self.names = Names()
        for area in FocusArea.objects.all():
            self.remember(area)

    def remember(self, area):
        self.by_pk[area.pk] = area
        self.names.add(area.pk, area.name)

    def resolve(self, name, path, line):
        pks = self.names.find(name)
        if len(pks) > 1:
            line.error(
                path, f"{name!r} matches more than one focus area: {describe(pks, self.by_pk)}"
            )
            return None
        if pks:
            area = only(pks, self.by_pk)
            self.report.record("focus areas", area.pk, MATCHED)
            return area
        area = FocusArea.objects.create(
            name=name, slug=unique_slug(FocusArea, name, max_length=100)
        )
        self.remember(area)
        self.report.record("focus areas", area.pk, CREATED)
        return area


class Labs:
    """Labs, found by name. Several agreements may name one lab: each line may give it hosts and
    focus areas it lacks and fill its empty fields, but never changes a stored value (its
    status included)."""

    def __init__(self, report):
        self.report = report
        self.by_pk = {}
        self.names = Names()
        self.hosts = {}  # lab pk -> {institution pk: position}
        self.focus_areas = {}  # lab pk -> {focus area pk}
        for lab in Lab.objects.prefetch_related("labhost_set", "focus_areas"):
            self.remember(lab, lab.labhost_set.all(), lab.focus_areas.all())

    def remember(self, lab, hosts=(), focus_areas=()):
        self.by_pk[lab.pk] = lab
        self.names.add(lab.pk, lab.name)
        self.hosts[lab.pk] = {host.institution_id: host.position for host in hosts}
        self.focus_areas[lab.pk] = {area.pk for area in focus_areas}

    def resolve(self, data, hosts, focus_areas, line):
        pks = self.names.find(data.name)
        if len(pks) > 1:
            message = f"matches more than one lab: {describe(pks, self.by_pk)}"
            line.error(at(data.path, "name"), message)
            return None
        if not pks:
            lab = Lab.objects.create(
                name=data.name,
                slug=unique_slug(Lab, data.name, max_length=100),
                status=data.status or Lab.Status.PROPOSED,
                established_on=data.established.date if data.established else None,
                established_on_precision=data.established.precision if data.established else "",
                description=data.description,
            )
            self.remember(lab)
            self.add(lab, hosts, focus_areas)
            self.report.record("labs", lab.pk, CREATED)
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
        if changed:
            lab.save()
        changed |= self.add(lab, hosts, focus_areas)
        self.report.record("labs", lab.pk, UPDATED if changed else MATCHED)
        return lab

    def add(self, lab, hosts, focus_areas):
        """Add the hosts (after the stored ones) and focus areas a lab lacks; whether any."""
        stored_hosts = self.hosts[lab.pk]
        new_hosts = [host for host in dict.fromkeys(hosts) if host.pk not in stored_hosts]
        for host in new_hosts:
            position = max(stored_hosts.values(), default=-1) + 1
            LabHost.objects.create(lab=lab, institution=host, position=position)
            stored_hosts[host.pk] = position
        stored_areas = self.focus_areas[lab.pk]
        new_areas = [area for area in dict.fromkeys(focus_areas) if area.pk not in stored_areas]
        if new_areas:
            lab.focus_areas.add(*new_areas)
            stored_areas.update(area.pk for area in new_areas)
        return bool(new_hosts or new_areas)
