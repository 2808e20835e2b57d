"""The sitemap: every published agreement and every record it makes public. Site-wide
composition, like the root URLs, so it may see every app.

`/sitemap.xml` is an index of the sections, each in pages of `Section.limit` addresses
(`/sitemap-agreements.xml?p=2`): one file of every address held 120,000 at 100,000
agreements, 6.5 MB made in 5 s, past the protocol's 50,000 a file."""

from django.contrib.sitemaps import Sitemap
from django.db.models import Max

from agreements.models import Agreement
from agreements.public import (
    agreement_counts,
    focus_area_counts,
    public_institution_ids,
    public_lab_ids,
    public_person_ids,
)
from labs.models import Lab
from people.models import Person
from registry.models import Institution


class Section(Sitemap):
    limit = 10_000  # addresses a page: about 1 MB


class AgreementSitemap(Section):
    def items(self):
        return Agreement.objects.published().only("slug", "updated_at").order_by("slug")

    def lastmod(self, agreement):
        return agreement.updated_at

    def get_latest_lastmod(self):
        # For the index, in the database: Django's own reads every agreement for it.
        return Agreement.objects.published().aggregate(latest=Max("updated_at"))["latest"]


class InstitutionSitemap(Section):
    def items(self):
        public = public_institution_ids(agreement_counts())
        return Institution.objects.filter(pk__in=public).order_by("slug")


class PersonSitemap(Section):
    def items(self):
        return Person.objects.filter(pk__in=public_person_ids()).order_by("slug")


class LabSitemap(Section):
    def items(self):
        return Lab.objects.filter(pk__in=public_lab_ids()).order_by("slug")


class FocusAreaSitemap(Section):
    def items(self):
        return sorted(focus_area_counts(), key=lambda area: area.slug)


SITEMAPS = {
    "agreements": AgreementSitemap,
    "institutions": InstitutionSitemap,
    "people": PersonSitemap,
    "labs": LabSitemap,
    "technologies": FocusAreaSitemap,
}
