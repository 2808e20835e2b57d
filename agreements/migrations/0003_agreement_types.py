from django.db import migrations

# The starting vocabulary of interchange.md; staff may edit and extend it in the admin.
TYPES = [
    ("strategic partnership agreement", "strategic-partnership", ""),
    ("strategic cooperation agreement", "strategic-cooperation", ""),
    ("cooperation agreement", "cooperation", ""),
    ("framework agreement", "framework", ""),
    ("memorandum of understanding", "mou", "MoU, MOU"),
    ("research partnership agreement", "research-partnership", ""),
    ("joint lab agreement", "joint-lab", ""),
    ("alliance", "alliance", ""),
    ("other", "other", ""),
]


def add_types(apps, schema_editor):
    AgreementType = apps.get_model("agreements", "AgreementType")
    for name, slug, synonyms in TYPES:
        AgreementType.objects.get_or_create(slug=slug, defaults={"name": name, "synonyms": synonyms})


class Migration(migrations.Migration):
    dependencies = [("agreements", "0002_signatory_party_trigger")]

    operations = [migrations.RunPython(add_types, migrations.RunPython.noop)]
