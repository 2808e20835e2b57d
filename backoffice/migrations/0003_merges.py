"""Merges of duplicate institutions and people (backoffice/merging.py), the pairs staff said are
not duplicates, and the permission to merge. The permissions sit on the institution and person
content types, where the admin's `perms` look for them, like the export permission of 0002;
both staff groups get them: editors keep the record, and a merge loses nothing (it moves every
reference and is recorded for review)."""

import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


PERMISSIONS = [
    ("registry", "institution", "merge_institution", "Can merge duplicate institutions"),
    ("people", "person", "merge_person", "Can merge duplicate people"),
]
GROUPS = ["Editors", "Publishers"]


def create_permissions(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    for app_label, model, codename, name in PERMISSIONS:
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
        permission, _ = Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        for group in Group.objects.filter(name__in=GROUPS):
            group.permissions.add(permission)


def remove_permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for app_label, _model, codename, _name in PERMISSIONS:
        Permission.objects.filter(content_type__app_label=app_label, codename=codename).delete()


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("backoffice", "0002_export_permission"),
        ("people", "0001_initial"),
        ("registry", "0002_constraint_messages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Merge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("institution", "institution"), ("person", "person")],
                        max_length=12,
                    ),
                ),
                (
                    "merged_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="merged at"
                    ),
                ),
                (
                    "survivor_name",
                    models.CharField(max_length=200, verbose_name="survivor at the time"),
                ),
                (
                    "duplicate_pk",
                    models.PositiveIntegerField(verbose_name="id of the merged-away record"),
                ),
                (
                    "duplicate_name",
                    models.CharField(max_length=200, verbose_name="merged-away record"),
                ),
                (
                    "duplicate_slug",
                    models.CharField(max_length=80, verbose_name="merged-away slug"),
                ),
                (
                    "duplicate",
                    models.JSONField(
                        encoder=django.core.serializers.json.DjangoJSONEncoder,
                        help_text="Its fields and names, and the ids of the rows that pointed to it.",
                        verbose_name="the merged-away record",
                    ),
                ),
                (
                    "moved",
                    models.JSONField(
                        default=dict,
                        encoder=django.core.serializers.json.DjangoJSONEncoder,
                        verbose_name="what moved",
                    ),
                ),
                (
                    "notes",
                    models.JSONField(
                        default=list,
                        encoder=django.core.serializers.json.DjangoJSONEncoder,
                        help_text="What the merge could not keep as it was, in words.",
                        verbose_name="notes",
                    ),
                ),
                (
                    "merged_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="merged by",
                    ),
                ),
                (
                    "survivor_institution",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="merges",
                        to="registry.institution",
                        verbose_name="survivor (institution)",
                    ),
                ),
                (
                    "survivor_person",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="merges",
                        to="people.person",
                        verbose_name="survivor (person)",
                    ),
                ),
            ],
            options={
                "verbose_name": "merge",
                "verbose_name_plural": "merges",
                "ordering": ["-merged_at", "-pk"],
                "indexes": [
                    models.Index(fields=["kind", "duplicate_slug"], name="merge_duplicate_slug_idx")
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("kind__in", ["institution", "person"])),
                        name="merge_kind_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("kind", "institution"), ("survivor_person__isnull", True)),
                            models.Q(("kind", "person"), ("survivor_institution__isnull", True)),
                            _connector="OR",
                        ),
                        name="merge_survivor_of_its_kind",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="NotDuplicate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("institution", "institution"), ("person", "person")],
                        max_length=12,
                    ),
                ),
                ("first_pk", models.PositiveIntegerField()),
                ("second_pk", models.PositiveIntegerField()),
                (
                    "decided_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="decided at"
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="decided by",
                    ),
                ),
            ],
            options={
                "verbose_name": "pair that is not a duplicate",
                "verbose_name_plural": "pairs that are not duplicates",
                "ordering": ["-decided_at", "-pk"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("kind__in", ["institution", "person"])),
                        name="not_duplicate_kind_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("first_pk__lt", models.F("second_pk"))),
                        name="not_duplicate_ordered",
                    ),
                    models.UniqueConstraint(
                        fields=("kind", "first_pk", "second_pk"), name="not_duplicate_once"
                    ),
                ],
            },
        ),
        migrations.RunPython(create_permissions, remove_permissions),
    ]
