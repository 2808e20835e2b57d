"""The sitemap: every published agreement and every record it makes public. Site-wide
composition, like the root URLs, so it may see every app."""

from django.contrib.sitemaps import Sitemap

from agreements.models import Agreement
from agreements.public import (
    agreement_counts,
    focus_area_counts,
    public_lab_ids,
    public_participations,
)
from labs.models import Lab
from people.models import Person
from registry.models import Institution


class AgreementSitemap(Sitemap):
    def items(self):
        return Agreement.objects.published().order_by("slug")

    def lastmod(self, agreement):
        return agreement.updated_at


class InstitutionSitemap(Sitemap):
    def items(self):
        return Institution.objects.filter(pk__in=agreement_counts()).order_by("slug")


class PersonSitemap(Sitemap):
    def items(self):
        return Person.objects.filter(pk__in=public_participations().values("person")).order_by(
            "slug"
        )


class LabSitemap(Sitemap):
    def items(self):
        return Lab.objects.filter(pk__in=public_lab_ids()).order_by("slug")


class FocusAreaSitemap(Sitemap):
    def items(self):
        return sorted(focus_area_counts(), key=lambda area: area.slug)


SITEMAPS = {
    "agreements": AgreementSitemap,
    "institutions": InstitutionSitemap,
    "people": PersonSitemap,
    "labs": LabSitemap,
    "technologies": FocusAreaSitemap,
}
