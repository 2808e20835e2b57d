"""Site-wide composition: the one module, with the home page, that sees every app."""

from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps import views as sitemaps
from django.urls import include, path

from agreements import pages
from agreements.models import Party
from backoffice.merge_views import KINDS, follow_merges
from backoffice.views import agreements_jsonl
from registry import admin as registry_admin
from registry import password_reset, views
from registry.http import read_only
from registry.login_limit import limit_login_attempts
from registry.sitemaps import SITEMAPS

# The API answers in JSON even at an address it does not have, cannot read, or fails at; the
# site with 404.html, 400.html and 500.html.
handler404 = views.page_not_found
handler400 = views.bad_request
handler403 = views.permission_denied
handler500 = views.server_error

urlpatterns = [
    path("", views.home, name="home"),
    # Before agreements' own export route: the interchange format belongs to the back office.
    path("agreements/export.jsonl", agreements_jsonl, name="agreements-jsonl"),
    # Before agreements' own routes for these pages: a merged-away record's address sends
    # its visitors on to the survivor (the pages themselves are agreements').
    path(
        "institutions/<str:slug>/",
        follow_merges(pages.institution_detail, KINDS["institutions"]),
    ),
    path(
        "institutions/<str:slug>/people/",
        follow_merges(
            pages.institution_people, KINDS["institutions"], "agreements:institution-people"
        ),
    ),
    path("people/<str:slug>/", follow_merges(pages.person_detail, KINDS["people"])),
    path("", include("agreements.urls")),
    path("", include("labs.urls")),
    path("api/", include("api.urls")),
    path("robots.txt", views.robots_txt, name="robots"),
    # An index of sections, each in pages of Sitemap.limit addresses (registry/sitemaps.py).
    path("sitemap.xml", read_only(sitemaps.index), {"sitemaps": SITEMAPS}, name="sitemap"),
    path(
        "sitemap-<section>.xml",
        read_only(sitemaps.sitemap),
        {"sitemaps": SITEMAPS},
        name="django.contrib.sitemaps.views.sitemap",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before the admin's own login route, which this one wraps with a limit on failed attempts.
    path("admin/login/", limit_login_attempts(admin.site.login)),
    # Before the admin's routes, whose catch-all would send the signed-out to sign in. Without
    # a mail server (production without EMAIL_HOST) none is offered: the sign-in page has no
    # link, and these addresses are not found.
    path(
        "admin/password_reset/",
        include(password_reset.patterns(offered=settings.PASSWORD_RESET_BY_MAIL)),
    ),
    # Before the admin's routes, whose catch-all would answer 404 for these.
    path("admin/reports/", include("backoffice.urls")),
    path("admin/import/", include("backoffice.import_urls")),
    path("admin/duplicates/", include("backoffice.merge_urls")),
    # Before the admin's own "View on site", which this one wraps with a permission.
    path(
        "admin/r/<int:content_type_id>/<path:object_id>/",
        admin.site.admin_view(registry_admin.view_on_site),
    ),
    # Before the admin's own autocomplete, which this one extends (naming records more fully,
    # offering a party's signing unit among its institution's units only).
    path(
        "admin/autocomplete/",
        admin.site.admin_view(
            registry_admin.LabelledAutocompleteJsonView.as_view(
                admin_site=admin.site, unit_fields=[Party._meta.get_field("unit")]
            ),
            cacheable=False,
        ),
    ),
    path("admin/", admin.site.urls),
    # In every mode, not only DEBUG: the view decides who may see each file.
    path(f"{settings.MEDIA_URL.lstrip('/')}<path:name>", views.upload, name="upload"),
]
