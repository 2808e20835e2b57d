"""Site-wide composition: the one module, with the home page, that sees every app."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from backoffice.views import agreements_jsonl
from registry import views
from registry.sitemaps import SITEMAPS

urlpatterns = [
    path("", views.home, name="home"),
    # Before agreements' own export route: the interchange format belongs to the back office.
    path("agreements/export.jsonl", agreements_jsonl, name="agreements-jsonl"),
    path("", include("agreements.urls")),
    path("", include("labs.urls")),
    path("api/", include("api.urls")),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
