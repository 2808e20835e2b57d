from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from backoffice.erasure import erase_person
from people.models import Person


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
        parser.add_argument("slug", help="the person's slug (the end of their public address)")
        parser.add_argument("--yes", action="store_true", help="erase them")

    def handle(self, *args, slug, yes, **options):
        try:
            person = Person.objects.get(slug=slug)
        except Person.DoesNotExist:
            raise CommandError(f"No person has the slug {slug!r}.") from None
        if not yes:
            self.stdout.write(
                f"Would erase {person} (#{person.pk}) and the history of their names. "
                "Run again with --yes to erase them."
            )
            return
        try:
            counts = erase_person(person=person)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        done = ", ".join(f"{kind}: {count}" for kind, count in counts.items())
        self.stdout.write(f"Erased {slug} ({done}).")
