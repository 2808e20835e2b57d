import logging

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from backoffice.erasure import erase_person, refuse_while_taking_part
from backoffice.management.output import BaseCommand
from people.models import Person

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Erase a person on request (privacy): delete them and purge every name of theirs the "
        "back office keeps, which a delete in the admin leaves behind: their versions and "
        "their other names' in the history, the titles they held in the agreements' history, "
        "the admin's log, and the records of duplicates merged into them. Refused while they "
        "take part in an agreement: remove them there first. Cannot be undone; without "
        "--yes it only says what it would erase."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "slug", nargs="?", help="the person's slug (the end of their public address)"
        )
        parser.add_argument(
            "--id", type=int, dest="person_id", help="the person's id, rather than their slug"
        )
        parser.add_argument("--yes", action="store_true", help="erase them")

    def handle(self, *args, slug, person_id, yes, **options):
        if (slug is None) == (person_id is None):
            raise CommandError("Name the person by their slug or by --id, one of them.")
        if person_id is not None:
            person = Person.objects.filter(pk=person_id).first() or (
                Person.history.filter(id=person_id).order_by("-history_date").first()
            )
            if person is None:
                raise CommandError(f"No person #{person_id}, now or in the history.")
            person = getattr(person, "instance", person)
        else:
            person = Person.objects.filter(slug=slug).first()
        if person is None:
            # Deleted already (in the admin, say) before the request came: their versions
            # remain, and name them by their slug.
            deleted = (
                Person.history.filter(slug=slug)
                .exclude(id__in=Person.objects.values("pk"))
                .values_list("id", flat=True)
                .distinct()
            )
            if len(found := sorted(set(deleted))) > 1:
                raise CommandError(
                    f"Several people deleted since had the slug {slug!r} (#"
                    + ", #".join(map(str, found))
                    + "): tell them apart in the history and erase each with --id."
                )
            if not found:
                raise CommandError(f"No person has or had the slug {slug!r}.")
            person = Person.history.filter(id=found[0]).latest("history_date").instance
        if not yes:
            try:  # said now, not only once run again with --yes
                refuse_while_taking_part(person)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from None
            self.stdout.write(
                f"Would erase {person} (#{person.pk}) and the history of their names. "
                "Run again with --yes to erase them."
            )
            return
        try:
            counts = erase_person(person_id=person.pk)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        done = ", ".join(f"{kind}: {count}" for kind, count in counts.items())
        # By id alone: the log keeps no name of someone erased.
        logger.info("Erased person #%d (%s)", person.pk, done)
        self.stdout.write(f"Erased #{person.pk} ({done}).")
