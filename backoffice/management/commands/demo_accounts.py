import secrets

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import CommandError
from django.db import transaction

from backoffice.management.output import BaseCommand

ACCOUNTS = [
    ("admin", None, "superuser: everything"),
    (
        "editor",
        "Editors",
        "enters and corrects drafts, submits them for review or takes them back; cannot publish",
    ),
    ("publisher", "Publishers", "also reviews: publishes, sends back, withdraws, restores"),
]
GROUPS = [group for _, group, _ in ACCOUNTS if group]


class Command(BaseCommand):
    help = (
        "Create (or reset) the demo staff accounts admin, editor and publisher with fresh "
        "random passwords, and print them. For a local demo only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--site",
            default="http://127.0.0.1:8000",
            help="the address the site is served at, for the admin's link (make run passes it)",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_accounts resets passwords; it runs only with DEBUG=1.")
        groups = {group.name: group for group in Group.objects.filter(name__in=GROUPS)}
        if missing := [name for name in GROUPS if name not in groups]:
            # It made admin, then stopped on a traceback: the accounts half reset.
            raise CommandError(
                f"A staff group the demo accounts join is missing: {', '.join(missing)} "
                "(manage.py migrate makes it); no account was changed."
            )
        with transaction.atomic():  # all the accounts reset, or none
            lines = [
                self.reset(username, groups.get(group), what) for username, group, what in ACCOUNTS
            ]
        admin = options["site"].rstrip("/") + "/admin/"
        self.stdout.write(f"Demo accounts for {admin} (new passwords each run):")
        self.stdout.write("\n".join(lines))

    def reset(self, username, group, what):
        user, _ = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.is_staff = True
        # An address of its own, so that the sign-in page's "Forgotten your login
        # credentials?" can be tried: make run prints the mail in its terminal.
        user.email = f"{username}@example.org"
        user.is_superuser = group is None
        user.save()
        if group:
            user.groups.set([group])
        return f"  {username:<10} {password:<14} {what}"
