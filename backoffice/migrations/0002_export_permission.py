"""Who may take data out of the back office in bulk: exports of any admin selection and the
reports (backoffice/reports.py). One permission for both, since a report is an export too. It
sits on the agreement content type, where the admin looks for it, but is made here so that the
agreements app's models and migrations stay as they are; Publishers get it."""

from django.db import migrations

CODENAME = "export_agreements"
NAME = "Can export agreements and see reports"


def create_permission(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="agreements", model="agreement")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=CODENAME, defaults={"name": NAME}
    )
    Group.objects.get(name="Publishers").permissions.add(permission)


def remove_permission(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="agreements", codename=CODENAME).delete()


class Migration(migrations.Migration):
    dependencies = [("backoffice", "0001_staff_groups")]

    operations = [migrations.RunPython(create_permission, remove_permission)]
