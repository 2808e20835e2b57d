import secrets

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import CommandError

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
        lines = []
        for username, group, what in ACCOUNTS:
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
                user.groups.set([Group.objects.get(name=group)])
            lines.append(f"  {username:<10} {password:<14} {what}")
        admin = options["site"].rstrip("/") + "/admin/"
        self.stdout.write(f"Demo accounts for {admin} (new passwords each run):")
        self.stdout.write("\n".join(lines))
