"""Site-wide composition, the views that see every app: the home page, and uploaded files."""

import mimetypes
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views import defaults

from agreements.charts import agreements_per_year
from agreements.models import Agreement, Photo
from agreements.public import agreement_counts, focus_area_counts
from api.views import error as api_error
from labs.views import public_labs
from registry.models import Institution, InstitutionKind

LATEST = 6
MOST_ACTIVE = 5
TOP_TECHNOLOGIES = 10


def home(request):
    published = Agreement.objects.published()
    institutions = list(Institution.objects.all())
    counts = agreement_counts()
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
            "latest": published.listed()[:LATEST],
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


def upload(request, name):
    """An uploaded file, to whom may see it: an institution's logo to anyone, an agreement's
    photo to anyone while the agreement is published, and to staff who may view photos.

    Only a name that a record holds is served, so nothing else in MEDIA_ROOT is reachable,
    and a draft's photo is not found whether or not its file exists."""
    logos = Institution.objects.filter(Q(logo=name) | Q(logo_thumbnail=name))
    photos = Photo.objects.filter(Q(image=name) | Q(thumbnail=name))
    visible = logos.exists() or photos.filter(agreement__in=Agreement.objects.published()).exists()
    if not visible and not (request.user.has_perm("agreements.view_photo") and photos.exists()):
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
