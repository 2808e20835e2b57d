"""Merging two records that are one: a duplicate institution or person folds into the survivor.

Every reference moves to the survivor, the duplicate's names become the survivor's aliases, the
survivor's empty fields are filled from the duplicate (never overwritten), and the duplicate is
deleted. Nothing else is lost: where the survivor and the duplicate are both parties to one
agreement, the two parties become one and every signatory stays; where one person holds one role
in one agreement under both records, the two participations become one with the fuller title.
The merge is recorded (backoffice.models.Merge) and in the survivor's history.

Here, in the back office, because a merge touches every app up to labs. `plan_*` works out what a
merge would do without writing (the confirmation page shows it); `merge_*` does it, in one
transaction.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.forms.models import model_to_dict
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from agreements.models import Participation, Party
from agreements.public import InstitutionTree
from agreements.search_index import refreshed_once
from backoffice.models import Merge, NotDuplicate, RecordKind
from labs.models import LabHost
from people.models import Person, PersonAlias
from registry import locks
from registry.cache import data_changed
from registry.models import Institution, InstitutionAlias

# Every relation that points to an institution or a person, as (model, field), and that the
# merge below moves. A relation added elsewhere and missing here stops every merge with an
# error, rather than letting the duplicate's deletion cascade over it or be refused midway.
INSTITUTION_RELATIONS = {
    ("registry.Institution", "parent"),
    ("registry.InstitutionAlias", "institution"),
    ("agreements.Party", "institution"),
    ("agreements.Party", "unit"),
    ("agreements.Participation", "organisation"),
    ("labs.Lab", "hosts"),  # through LabHost, below
    ("labs.LabHost", "institution"),
    ("backoffice.Merge", "survivor_institution"),
}
PERSON_RELATIONS = {
    ("people.PersonAlias", "person"),
    ("agreements.Participation", "person"),
    ("backoffice.Merge", "survivor_person"),
}
# Fields of the survivor that the duplicate fills when empty; a logo comes with its thumbnail.
INSTITUTION_FILLS = ["native_name", "acronym", "country", "city", "website", "ror", "wikidata"]
PERSON_FILLS = ["native_name"]


class MergeError(ValidationError):
    pass


def unhandled_relations(model, handled):
    found = {(rel.related_model._meta.label, rel.field.name) for rel in model._meta.related_objects}
    return sorted(found - handled)


def same_name(one, other):
    """Names the public search cannot tell apart, so keeping both adds nothing. Case only
    where SQLite's LIKE ignores it too (ASCII); the search is not otherwise normalised."""
    one, other = one.strip(), other.strip()
    if one.isascii() and other.isascii():
        return one.casefold() == other.casefold()
    return one == other


def new_aliases(survivor_names, duplicate_names):
    """The duplicate's names the survivor does not have yet, in order, each once."""
    kept = [name for name in survivor_names if name]
    added = []
    for name in duplicate_names:
        name = name.strip()
        if name and not any(same_name(name, other) for other in kept + added):
            added.append(name)
    return added


def snapshot(record, aliases):
    fields = model_to_dict(record)
    for name, value in fields.items():
        if isinstance(value, FieldFile):
            fields[name] = value.name
        elif not isinstance(value, (str, int, type(None))):
            fields[name] = str(value)  # a country: its code
    return {
        "fields": {"id": record.pk, **fields},
        "aliases": aliases,
        "created_at": record.created_at,
    }


def history_reason(survivor, duplicate):
    return _("Merged “%(name)s” (#%(id)s, %(slug)s) into this record") % {
        "name": duplicate.name,
        "id": duplicate.pk,
        "slug": duplicate.slug,
    }


def check_pair(survivor, duplicate, model):
    if survivor.pk == duplicate.pk:
        raise MergeError(_("A record cannot be merged into itself."))
    handled = INSTITUTION_RELATIONS if model is Institution else PERSON_RELATIONS
    missing = unhandled_relations(model, handled)
    if missing:
        raise MergeError(
            _("The merge does not know how to move these references: %(fields)s.")
            % {"fields": ", ".join(f"{label}.{name}" for label, name in missing)}
        )


def move_pairs(kind, *, survivor, duplicate):
    """Pairs said not to be duplicates move with the duplicate's references."""
    pairs = NotDuplicate.objects.filter(kind=kind).filter(
        Q(first_pk=duplicate.pk) | Q(second_pk=duplicate.pk)
    )
    for pair in pairs:
        other = pair.second_pk if pair.first_pk == duplicate.pk else pair.first_pk
        low, high = sorted([other, survivor.pk])
        taken = NotDuplicate.objects.filter(kind=kind, first_pk=low, second_pk=high).exists()
        if other == survivor.pk or taken:
            pair.delete()
        else:
            pair.first_pk, pair.second_pk = low, high
            pair.save(update_fields=["first_pk", "second_pk"])


# Institutions ----------------------------------------------------------------------------


@dataclass
class InstitutionPlan:
    survivor: Institution
    duplicate: Institution
    parties: dict = field(default_factory=dict)  # pk -> Party, as it will be saved
    moved_parties: list = field(default_factory=list)  # the duplicate's, now the survivor's
    unit_parties: list = field(default_factory=list)  # signed by the duplicate as a unit
    folded: list = field(default_factory=list)  # (duplicate's party, survivor's party)
    signatories: list = field(default_factory=list)  # participations whose party is folded
    participations: dict = field(default_factory=dict)  # pk -> Participation, as saved
    organisations: list = field(default_factory=list)  # participations "working at" it
    units: list = field(default_factory=list)  # the duplicate's units, now the survivor's
    parent_id: int | None = None  # the survivor's parent after the merge
    lab_hosts: list = field(default_factory=list)
    lab_hosts_dropped: list = field(default_factory=list)  # labs the survivor hosts already
    aliases: list = field(default_factory=list)
    fills: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    problems: list = field(default_factory=list)

    def counts(self):
        return {
            "parties": len(self.moved_parties),
            "parties_folded": len(self.folded),
            "parties_as_unit": len(self.unit_parties),
            "signatories_moved_to_the_survivors_party": len(self.signatories),
            "participations_organisation": len(self.organisations),
            "units": len(self.units),
            "lab_hosts": len(self.lab_hosts),
            "lab_hosts_already_the_survivors": len(self.lab_hosts_dropped),
            "aliases_added": len(self.aliases),
            "fields_filled": sorted(self.fills),
        }


def plan_institution_merge(*, survivor, duplicate):
    """What merging `duplicate` into `survivor` would do; `problems` say why it cannot."""
    check_pair(survivor, duplicate, Institution)
    plan = InstitutionPlan(survivor=survivor, duplicate=duplicate)
    s, d = survivor.pk, duplicate.pk

    def mapped(pk):
        return s if pk == d else pk

    # The tree after the merge. If the survivor sits inside the duplicate, it takes the
    # duplicate's place (else moving the duplicate's units under it would make a loop); if it
    # has no parent, it takes the duplicate's, unless that is inside the survivor.
    tree = InstitutionTree()
    survivor_ancestors = tree.with_ancestors(s)[1:]
    duplicate_ancestors = tree.with_ancestors(d)[1:]
    if d in survivor_ancestors or (survivor.parent_id is None and s not in duplicate_ancestors):
        plan.parent_id = duplicate.parent_id
    else:
        plan.parent_id = survivor.parent_id
    plan.units = list(Institution.objects.filter(parent=d).exclude(pk=s).order_by("name"))
    after = dict(tree.parent)
    after.pop(d, None)
    after[s] = plan.parent_id
    for unit in plan.units:
        after[unit.pk] = s
    after_tree = InstitutionTree(after.items())

    # Parties: the duplicate's become the survivor's, or fold into the survivor's party to the
    # same agreement; parties the duplicate signed for as a unit name the survivor instead.
    rows = (
        Party.objects.filter(
            Q(institution=d)
            | Q(unit=d)
            | Q(
                institution=s,
                agreement__in=Party.objects.filter(institution=d).values("agreement"),
            )
        )
        .select_related("agreement", "unit")
        .order_by("agreement__title", "pk")
    )
    plan.parties = {party.pk: party for party in rows}
    original = {pk: (p.institution_id, p.unit_id) for pk, p in plan.parties.items()}
    survivors_party = {p.agreement_id: p for p in plan.parties.values() if p.institution_id == s}
    for party in plan.parties.values():
        if party.unit_id == d:
            party.unit_id = None if party.institution_id == s else s
            plan.unit_parties.append(party)
    for party in plan.parties.values():
        if party.institution_id != d:
            continue
        target = survivors_party.get(party.agreement_id)
        unit = mapped(party.unit_id)
        if target is None:
            party.institution_id = s
            party.unit_id = None if unit == s else unit
            plan.moved_parties.append(party)
            continue
        plan.folded.append((party, target))
        if unit == s:
            unit = None
        if target.unit_id is None:
            target.unit_id = unit
        elif unit is not None and unit != target.unit_id:
            plan.notes.append(
                _(
                    "“%(agreement)s”: the survivor's party names the unit that signed; the "
                    "duplicate's party named another (#%(unit)s), which is not kept."
                )
                % {"agreement": party.agreement.title, "unit": unit}
            )
    # A unit must stay part of the institution it signed for (Party.clean); a merge that would
    # break that for a party where it held is refused.
    others = Party.objects.filter(unit__in=after_tree.with_descendants(s) - {s, d}).exclude(
        pk__in=plan.parties
    )
    for party in [*plan.parties.values(), *others.select_related("agreement")]:
        before = original.get(party.pk, (party.institution_id, party.unit_id))
        before_institution, before_unit = before
        if party.institution_id == d or party.unit_id is None:
            continue  # folded away, or no unit
        was = before_unit is None or before_institution in tree.with_ancestors(before_unit)[1:]
        if was and party.institution_id not in after_tree.with_ancestors(party.unit_id)[1:]:
            plan.problems.append(
                _(
                    "“%(agreement)s”: after the merge, the unit that signed would no longer be "
                    "part of the party it signed for. Correct the parents first."
                )
                % {"agreement": party.agreement.title}
            )

    folded = {party.pk: target for party, target in plan.folded}
    participations = Participation.objects.filter(Q(organisation=d) | Q(party__in=folded))
    for participation in participations.select_related("agreement", "person"):
        plan.participations[participation.pk] = participation
        if participation.party_id in folded:
            participation.party_id = folded[participation.party_id].pk
            plan.signatories.append(participation)
        if participation.organisation_id == d:
            participation.organisation_id = s
            plan.organisations.append(participation)

    hosted = set(LabHost.objects.filter(institution=s).values_list("lab", flat=True))
    for host in LabHost.objects.filter(institution=d).select_related("lab"):
        (plan.lab_hosts_dropped if host.lab_id in hosted else plan.lab_hosts).append(host)

    survivor_aliases = list(survivor.aliases.values_list("name", flat=True))
    duplicate_aliases = list(duplicate.aliases.values_list("name", flat=True))
    for name in INSTITUTION_FILLS:
        if not getattr(survivor, name) and getattr(duplicate, name):
            plan.fills[name] = getattr(duplicate, name)
    if not survivor.logo and duplicate.logo:
        plan.fills["logo"] = duplicate.logo
        plan.fills["logo_thumbnail"] = duplicate.logo_thumbnail
    survivor_names = [survivor.name, *survivor_aliases]
    survivor_names += [plan.fills.get(n, getattr(survivor, n)) for n in ("native_name", "acronym")]
    plan.aliases = new_aliases(
        survivor_names,
        [duplicate.name, duplicate.native_name, duplicate.acronym, *duplicate_aliases],
    )
    if survivor.kind != duplicate.kind:
        plan.notes.append(
            _("The kinds differ; the survivor stays a %(kind)s.")
            % {"kind": survivor.get_kind_display()}
        )
    return plan


def merge_record(kind, survivor, duplicate, plan, *, by):
    """The Merge row for either kind, before it is saved: the duplicate as it was, with its
    aliases, and what the plan moves."""
    return Merge(
        kind=kind,
        merged_by=by,
        survivor_name=survivor.name,
        duplicate_pk=duplicate.pk,
        duplicate_name=duplicate.name,
        duplicate_slug=duplicate.slug,
        duplicate=snapshot(duplicate, list(duplicate.aliases.values_list("name", flat=True))),
        moved=plan.counts(),
        notes=plan.notes,
    )


def locked_pair(model, *, survivor, duplicate):
    """The two records as stored, locked in the order of their keys: two merges of one pair
    at once, either way round, queue rather than deadlock, and the second, finding one of
    them gone, is refused (it was a record not found, a 500)."""
    pair = [survivor.pk, duplicate.pk]
    found = model.objects.select_for_update().filter(pk__in=pair).order_by("pk").in_bulk()
    gone = [record for record in (survivor, duplicate) if record.pk not in found]
    if gone:
        raise MergeError(
            _(
                "“%(name)s” was merged or deleted by someone else meanwhile, so nothing was "
                "merged. Look at the likely duplicates again."
            )
            % {"name": gone[0]}
        )
    return found[survivor.pk], found[duplicate.pk]


def merge_institutions(*, survivor, duplicate, by):
    """Merge `duplicate` into `survivor` (see the module); returns the Merge record. Refused,
    with nothing written, if the plan has problems."""
    # The search refreshed once, at the end, for every agreement of either: each row written
    # (the parties moved, the names kept as other names, the fields filled) refreshed all the
    # survivor's. Merging a duplicate into the company named by 4,609 of 20,000 generated
    # agreements took 19 to 25 s on PostgreSQL, now 4.5 to 8 s.
    with transaction.atomic(), refreshed_once():
        # The lock of parents being changed (registry 0009) before the pair's rows: a move in
        # the admin holding it could wait for a row locked here, while this waited for it.
        locks.held_until_commit(locks.INSTITUTION_TREE)
        survivor, duplicate = locked_pair(Institution, survivor=survivor, duplicate=duplicate)
        plan = plan_institution_merge(survivor=survivor, duplicate=duplicate)
        if plan.problems:
            raise MergeError(plan.problems)
        reason = history_reason(survivor, duplicate)
        record = merge_record(RecordKind.INSTITUTION, survivor, duplicate, plan, by=by)
        record.duplicate["references"] = {
            "parties": [p.pk for p in plan.moved_parties],
            "parties_folded": [[p.pk, target.pk] for p, target in plan.folded],
            "parties_as_unit": [p.pk for p in plan.unit_parties],
            "participations_organisation": [p.pk for p in plan.organisations],
            "signatories_moved": [p.pk for p in plan.signatories],
            "units": [u.pk for u in plan.units],
            "lab_hosts": [h.lab_id for h in plan.lab_hosts],
            "lab_hosts_already_the_survivors": [h.lab_id for h in plan.lab_hosts_dropped],
            "merges": list(duplicate.merges.values_list("pk", flat=True)),
        }
        history = {"default_user": by, "default_change_reason": reason}

        # The survivor's place in the tree first, so that no unit is left pointing at the
        # duplicate when it goes; its other fields after, once the duplicate's unique ROR id
        # has gone with it.
        Institution.objects.filter(pk=survivor.pk).update(parent=plan.parent_id)
        for unit in plan.units:
            unit.parent_id = survivor.pk
        if plan.units:
            bulk_update_with_history(plan.units, Institution, ["parent"], **history)
        folded_away = [party for party, _target in plan.folded]
        kept = [p for p in plan.parties.values() if p not in folded_away]
        if kept:
            bulk_update_with_history(kept, Party, ["institution", "unit"], **history)
        if plan.participations:
            bulk_update_with_history(
                list(plan.participations.values()),
                Participation,
                ["party", "organisation"],
                **history,
            )
        for party in folded_away:
            party._history_user, party._change_reason = by, reason
            party.delete()
        for host in plan.lab_hosts:
            host.institution = survivor
        if plan.lab_hosts:
            bulk_update_with_history(plan.lab_hosts, LabHost, ["institution"], **history)
        for host in plan.lab_hosts_dropped:
            host._history_user, host._change_reason = by, reason
            host.delete()
        Merge.objects.filter(survivor_institution=duplicate).update(survivor_institution=survivor)
        move_pairs(RecordKind.INSTITUTION, survivor=survivor, duplicate=duplicate)

        duplicate._history_user, duplicate._change_reason = by, reason
        duplicate.delete()
        for name, value in plan.fills.items():
            setattr(survivor, name, value)
        survivor.parent_id = plan.parent_id
        survivor._history_user, survivor._change_reason = by, reason
        survivor.save()
        for name in plan.aliases:
            alias = InstitutionAlias(institution=survivor, name=name)
            alias._history_user, alias._change_reason = by, reason
            alias.save()
        record.survivor_institution = survivor
        record.save()
        data_changed()
    return record


# People ----------------------------------------------------------------------------------


@dataclass
class PersonPlan:
    survivor: Person
    duplicate: Person
    moved: list = field(default_factory=list)  # the duplicate's, now the survivor's
    folded: list = field(default_factory=list)  # (duplicate's, survivor's): same agreement, role
    aliases: list = field(default_factory=list)
    fills: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    problems: list = field(default_factory=list)  # none yet: as InstitutionPlan, for the page

    def counts(self):
        return {
            "participations": len(self.moved),
            "participations_folded": len(self.folded),
            "aliases_added": len(self.aliases),
            "fields_filled": sorted(self.fills),
        }


def fuller(one, other):
    """The more informative of two titles: the one there is, else the longer."""
    return other if len(other.strip()) > len(one.strip()) else one


def plan_person_merge(*, survivor, duplicate):
    check_pair(survivor, duplicate, Person)
    plan = PersonPlan(survivor=survivor, duplicate=duplicate)
    theirs = Participation.objects.filter(person=duplicate).select_related("agreement")
    own = {
        (p.agreement_id, p.role): p
        for p in Participation.objects.filter(
            person=survivor, agreement__in=theirs.values("agreement")
        )
    }
    for participation in theirs.order_by("agreement__title", "pk"):
        target = own.get((participation.agreement_id, participation.role))
        if target is None:
            participation.person_id = survivor.pk
            plan.moved.append(participation)
            continue
        plan.folded.append((participation, target))
        if participation.title.strip() and target.title.strip() != participation.title.strip():
            plan.notes.append(
                _("“%(agreement)s”: titles “%(one)s” and “%(other)s”; the fuller one is kept.")
                % {
                    "agreement": participation.agreement.title,
                    "one": target.title,
                    "other": participation.title,
                }
            )
        target.title = fuller(target.title, participation.title)
        target.organisation_id = target.organisation_id or participation.organisation_id
        target.party_id = target.party_id or participation.party_id
        if participation.party_id and participation.party_id != target.party_id:
            plan.notes.append(
                _(
                    "“%(agreement)s”: both records signed, for different parties; the "
                    "survivor's party is kept."
                )
                % {"agreement": participation.agreement.title}
            )
    for name in PERSON_FILLS:
        if not getattr(survivor, name) and getattr(duplicate, name):
            plan.fills[name] = getattr(duplicate, name)
    survivor_names = [survivor.name, plan.fills.get("native_name", survivor.native_name)]
    survivor_names += list(survivor.aliases.values_list("name", flat=True))
    plan.aliases = new_aliases(
        survivor_names,
        [
            duplicate.name,
            duplicate.native_name,
            *duplicate.aliases.values_list("name", flat=True),
        ],
    )
    return plan


def merge_people(*, survivor, duplicate, by):
    """Merge person `duplicate` into `survivor`; returns the Merge record."""
    with transaction.atomic(), refreshed_once():  # as merge_institutions
        survivor, duplicate = locked_pair(Person, survivor=survivor, duplicate=duplicate)
        plan = plan_person_merge(survivor=survivor, duplicate=duplicate)
        if plan.problems:
            raise MergeError(plan.problems)
        reason = history_reason(survivor, duplicate)
        record = merge_record(RecordKind.PERSON, survivor, duplicate, plan, by=by)
        record.duplicate["references"] = {
            "participations": [p.pk for p in plan.moved],
            # [the duplicate's, the survivor's it became, the duplicate's title]
            "participations_folded": [[p.pk, target.pk, p.title] for p, target in plan.folded],
            "merges": list(duplicate.merges.values_list("pk", flat=True)),
        }
        history = {"default_user": by, "default_change_reason": reason}
        # The duplicate's own row in an agreement and role the survivor has goes first: the
        # two may not exist side by side (one participation per person, role and agreement).
        for participation, _target in plan.folded:
            participation._history_user, participation._change_reason = by, reason
            participation.delete()
        if plan.moved:
            bulk_update_with_history(plan.moved, Participation, ["person"], **history)
        targets = [target for _participation, target in plan.folded]
        if targets:
            bulk_update_with_history(
                targets, Participation, ["title", "organisation", "party"], **history
            )
        Merge.objects.filter(survivor_person=duplicate).update(survivor_person=survivor)
        move_pairs(RecordKind.PERSON, survivor=survivor, duplicate=duplicate)
        duplicate._history_user, duplicate._change_reason = by, reason
        duplicate.delete()
        for name, value in plan.fills.items():
            setattr(survivor, name, value)
        survivor._history_user, survivor._change_reason = by, reason
        survivor.save()
        for name in plan.aliases:
            alias = PersonAlias(person=survivor, name=name)
            alias._history_user, alias._change_reason = by, reason
            alias.save()
        record.survivor_person = survivor
        record.save()
        data_changed()
    return record
