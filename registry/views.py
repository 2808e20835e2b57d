"""The home page: site-wide composition, the one view that sees every app."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from agreements.charts import agreements_per_year
from agreements.models import Agreement
from agreements.pages import with_parties
from agreements.public import InstitutionTree, agreement_counts, focus_area_counts
from labs.views import public_labs
from registry.models import Institution, InstitutionKind

LATEST = 6
MOST_ACTIVE = 5
TOP_TECHNOLOGIES = 10


def home(request):
    published = Agreement.objects.published()
    institutions = list(Institution.objects.all())
    counts = agreement_counts(InstitutionTree((i.pk, i.parent_id) for i in institutions))
    # Units count towards their parents, so only the whole institutions compete.
    whole = sorted(
        (i for i in institutions if i.parent_id is None and i.pk in counts),
        key=lambda i: (-counts[i.pk], i.name),
    )
    for institution in whole:
        institution.agreement_count = counts[institution.pk]

    def most_active(kind):
        return [i for i in whole if i.kind == kind][:MOST_ACTIVE]

    areas = [area for area in focus_area_counts() if area.agreement_count]
    return render(
        request,
        "registry/home.html",
        {
            "agreement_count": published.count(),
            "institution_count": len(counts),
            "lab_count": public_labs().count(),
            "focus_area_count": len(areas),
            "latest": with_parties(published)[:LATEST],
            "most_active": [
                (_("Most active universities"), most_active(InstitutionKind.UNIVERSITY)),
                (_("Most active companies"), most_active(InstitutionKind.COMPANY)),
            ],
            "top_areas": sorted(areas, key=lambda a: (-a.agreement_count, a.name))[
                :TOP_TECHNOLOGIES
            ],
            "per_year": agreements_per_year(published),
        },
    )
