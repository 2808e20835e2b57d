"""Site-wide composition, the views that see every app: the home page, and uploaded files."""

import mimetypes
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views import defaults

from agreements.charts import fill_years
from agreements.models import Agreement, Photo
from agreements.public import (
    agreement_counts,
    focus_area_counts,
    link_counts,
    searchable_focus_areas,
)
from agreements.search_index import TYPE, YEAR
from api.views import error as api_error
from labs.views import public_labs
from registry.http import read_only
from registry.models import Institution, InstitutionKind
from registry.sharing import sharing

LATEST = 6
MOST_ACTIVE = 5
TOP_TECHNOLOGIES = 10


@read_only
def home(request):
    published = Agreement.objects.published()
    counts = agreement_counts()
    # Units count towards their parents, so only the whole institutions compete. Chosen
    # from plain rows; only those shown are read as objects (3,500 took 40 ms).
    rows = Institution.objects.filter(parent=None).values_list("pk", "name", "kind")
    whole = sorted(
        (row for row in rows if row[0] in counts), key=lambda row: (-counts[row[0]], row[1])
    )
    top = {
        kind: [pk for pk, _name, k in whole if k == kind][:MOST_ACTIVE]
        for kind in (InstitutionKind.UNIVERSITY, InstitutionKind.COMPANY)
    }
    shown = Institution.objects.in_bulk([pk for pks in top.values() for pk in pks])
    for institution in shown.values():
        institution.agreement_count = counts[institution.pk]

    def most_active(kind):
        return [shown[pk] for pk in top[kind]]

    areas = focus_area_counts(with_labs=False)
    return render(
        request,
        "registry/home.html",
        {
            "share": sharing(
                request,
                path=reverse("home"),
                title=_("University–industry partnership agreements"),
                description=_(
                    "The public record of university–industry partnership agreements: who"
                    " signed with whom, when, on which technologies, and which joint labs came"
                    " of it."
                ),
            ),
            # Each published agreement has one type: its count from the totals too (a count of
            # the published rows took 5 ms at 100,000).
            "agreement_count": sum(link_counts(None, TYPE).values()),
            "institution_count": len(counts),
            "lab_count": public_labs().count(),
            # As many as /technologies/, which it links to, lists: a public lab's technology
            # too, which no published agreement names (the top ones rank by agreements).
            "focus_area_count": searchable_focus_areas().count(),
            "latest": published.listed()[:LATEST],
            "most_active": [
                (_("Most active universities"), most_active(InstitutionKind.UNIVERSITY)),
                (_("Most active companies"), most_active(InstitutionKind.COMPANY)),
            ],
            "top_areas": sorted(areas, key=lambda a: (-a.agreement_count, a.name))[
                :TOP_TECHNOLOGIES
            ],
            # From the search's totals, kept ready on PostgreSQL (50 ms to count them).
            "per_year": fill_years(link_counts(None, YEAR)),
        },
    )


@read_only
def robots_txt(request):
    """For crawlers: every public record is in the sitemap. The search's filters make a new
    address of every combination (a crawler would never finish), and the back office, the
    downloads and the API are not pages to index."""
    rules = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /agreements/?",
        "Disallow: /agreements/export.",
        "Disallow: /agreements/feed.atom?",
        "Disallow: /api/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(rules) + "\n", content_type="text/plain; charset=utf-8")


def page_not_found(request, exception):
    if request.path.startswith("/api/"):
        return api_error(
            404, {"address": [_("The API has no such address; its description is at /api/.")]}
        )
    return defaults.page_not_found(request, exception)


def bad_request(request, exception):
    if request.path.startswith("/api/"):
        return api_error(400, {"address": [_("This request cannot be read")]})
    return defaults.bad_request(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return api_error(500, {"server": [_("The registry failed to answer; try again later.")]})
    return defaults.server_error(request)


def permission_denied(request, exception):
    return render(request, "403.html", {"in_admin": in_admin(request)}, status=403)


def csrf_failure(request, reason=""):
    """A form refused by the CSRF check (a page open since before a sign-in, cookies refused):
    the site's own page in the visitor's language, rather than Django's about tokens and
    Referer headers. Django logs the reason (django.security.csrf) for the operator.

    In the admin it says what a staff member who left a form open and signed in again
    meanwhile (which changes the token), perhaps in another tab, must know: nothing they sent
    was saved, and a reload empties the form, so copy it first. Keeping the form for them
    would need a mechanism of its own; the browser's Back usually keeps it."""
    return render(request, "403_csrf.html", {"in_admin": in_admin(request)}, status=403)


def in_admin(request):
    """Whether the page refused is the back office's, whose staff need a way back to it."""
    return request.path.startswith(reverse("admin:index"))


@read_only
def upload(request, name):
    """An uploaded file, to whom may see it: an institution's logo to anyone, an agreement's
    photo to anyone while the agreement is published, and to staff who may view photos.

    Only a name that a record holds is served, so nothing else in MEDIA_ROOT is reachable,
    and a draft's photo is not found whether or not its file exists."""
    logos = Institution.objects.filter(Q(logo=name) | Q(logo_thumbnail=name))
    photos = Photo.objects.filter(Q(image=name) | Q(thumbnail=name))
    visible = logos.exists() or photos.filter(agreement__in=Agreement.objects.published()).exists()
    # Staff, as the agreement's preview asks (agreements.pages.agreement_detail): a session
    # open since before "Staff status" was taken away keeps its groups, not the admin.
    staff = request.user.is_staff and request.user.has_perm("agreements.view_photo")
    if not visible and not (staff and photos.exists()):
        raise Http404
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if settings.MEDIA_ACCEL_REDIRECT:
        # The web server in front (nginx in docker-compose.yml) sends the file.
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT + quote(name)
    else:
        try:
            response = FileResponse(default_storage.open(name), content_type=content_type)
        except FileNotFoundError:
            raise Http404 from None
    # Private: a shared cache must not keep a photo that is withdrawn, or one shown to staff.
    patch_cache_control(response, private=True, max_age=3600)
    return response
