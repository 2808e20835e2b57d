"""The two staff roles. Editors keep the record; publishers also decide what the public sees,
edit the vocabulary and delete whole records."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

RECORDS = {
    "registry": ["institution", "focusarea", "focusareagroup"],
    "people": ["person"],
    "agreements": ["agreement"],
    "labs": ["lab"],
}
PARTS = {
    "registry": ["institutionalias"],
    "people": ["personalias"],
    "agreements": ["party", "participation", "source", "photo", "agreementrelation"],
    "labs": ["labhost", "labagreement"],
}


def codenames(models, actions):
    return [
        (app, f"{action}_{model}")
        for app, names in models.items()
        for model in names
        for action in actions
    ]


EDITOR = (
    codenames(RECORDS, ["add", "change", "view"])
    + codenames(PARTS, ["add", "change", "delete", "view"])
    + [("agreements", "view_agreementtype")]
)
PUBLISHER = (
    EDITOR
    + codenames(RECORDS, ["delete"])
    + codenames({"agreements": ["agreementtype"]}, ["add", "change", "delete"])
    + [("agreements", "publish_agreement")]
)


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations; these groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in (("Editors", EDITOR), ("Publishers", PUBLISHER)):
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in wanted:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("registry", "0001_initial"),
        ("people", "0001_initial"),
        ("agreements", "0003_agreement_types"),
        ("labs", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
