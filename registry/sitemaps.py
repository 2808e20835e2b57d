"""The sitemap: every published agreement and every record it makes public. Site-wide
composition, like the root URLs, so it may see every app."""

from django.contrib.sitemaps import Sitemap

from agreements.models import Agreement, Participation
from agreements.public import agreement_counts, focus_area_counts, public_lab_ids
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
        participants = Participation.objects.filter(agreement__in=Agreement.objects.published())
        return Person.objects.filter(pk__in=participants.values("person")).order_by("slug")


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
