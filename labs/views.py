"""The public pages of joint labs. A lab is public once a published agreement names it."""

from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count, F, Prefetch
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agreements.models import Agreement, Party
from agreements.public import public_lab_ids
from labs.models import Lab, LabAgreement, LabHost
from registry.http import read_only
from registry.paging import page_of
from registry.sharing import sharing

LABS_PER_PAGE = 100


def public_labs():
    return Lab.objects.filter(pk__in=public_lab_ids())


@read_only
def lab_list(request):
    labs = public_labs()
    status = request.GET.get("status", "")
    if status not in Lab.Status.values:
        if status:
            messages.error(
                request,
                _("There is no status “%(status)s”: every lab is listed.")
                % {"status": status[:40]},
            )
        status = ""
    per_status = dict(labs.values_list("status").annotate(n=Count("*")).order_by())
    statuses = [(value, label, per_status.get(value, 0)) for value, label in Lab.Status.choices]
    # A page at a time, its labs' agreements counted alone: all 4,000 labs of 100,000
    # agreements made a page of 1.7 MB in 1.7 s.
    shown = labs.filter(status=status) if status else labs
    count = per_status.get(status, 0) if status else sum(per_status.values())
    page = page_of(request, shown.order_by("name", "pk"), LABS_PER_PAGE, count=count)
    page.object_list = list(
        page.object_list.prefetch_related(
            Prefetch("labhost_set", queryset=LabHost.objects.select_related("institution")),
            "focus_areas",
        )
    )
    published = Agreement.objects.published()
    counts = dict(
        LabAgreement.objects.filter(lab__in=page.object_list, agreement__in=published)
        .values_list("lab")
        .annotate(n=Count("agreement", distinct=True))
        .order_by()
    )
    for lab in page:
        lab.agreement_count = counts.get(lab.pk, 0)
    total = sum(per_status.values())
    title = _("Joint labs")
    share = sharing(
        request,
        path=reverse("labs:list"),
        title=f"{title}: {Lab.Status(status).label}" if status else title,
        description=ngettext(
            "The %(counter)s joint lab, centre or academy founded, planned or extended under"
            " published partnership agreements.",
            "The %(counter)s joint labs, centres and academies founded, planned or extended"
            " under published partnership agreements.",
            total,
        )
        % {"counter": total},
        query=[("status", status)],
        page=page.number,
    )
    return render(
        request,
        "labs/lab_list.html",
        {
            "share": share,
            "labs": page,
            "page": page,
            "statuses": statuses,
            "status": status,
            "total": total,
            "query": urlencode({"status": status} if status else {}),
        },
    )


@read_only
def lab_detail(request, slug):
    lab_agreements = (
        LabAgreement.objects.filter(agreement__in=Agreement.objects.published())
        .select_related("agreement__agreement_type")
        .order_by(F("agreement__signed_on").desc(nulls_last=True), "agreement__title")
    )
    lab = get_object_or_404(
        public_labs().prefetch_related(
            Prefetch("labhost_set", queryset=LabHost.objects.select_related("institution")),
            "focus_areas",
            Prefetch("labagreement_set", queryset=lab_agreements),
            Prefetch(
                "labagreement_set__agreement__parties",
                queryset=Party.objects.select_related("institution", "unit"),
            ),
        ),
        slug=slug,
    )
    hosts = ", ".join(host.institution.name for host in lab.labhost_set.all())
    description = lab.description or f"{lab.name}: {lab.get_status_display()}" + (
        f", {_('hosted by')} {hosts}." if hosts else "."
    )
    share = sharing(request, path=lab.get_absolute_url(), title=lab.name, description=description)
    return render(request, "labs/lab_detail.html", {"lab": lab, "share": share})
