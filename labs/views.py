"""The public pages of joint labs. A lab is public once a published agreement names it."""

from django.db.models import Count, F, Prefetch, Q
from django.shortcuts import get_object_or_404, render

from agreements.models import Agreement, Party
from agreements.public import public_lab_ids
from labs.models import Lab, LabAgreement, LabHost


def public_labs():
    return Lab.objects.filter(pk__in=public_lab_ids())


def lab_list(request):
    published = Agreement.objects.published()
    labs = list(
        public_labs()
        .annotate(
            agreement_count=Count(
                "labagreement", filter=Q(labagreement__agreement__in=published), distinct=True
            )
        )
        .prefetch_related(
            Prefetch("labhost_set", queryset=LabHost.objects.select_related("institution")),
            "focus_areas",
        )
        .order_by("name")  # a grouped query ignores Meta.ordering
    )
    status = request.GET.get("status", "")
    if status not in Lab.Status.values:
        status = ""
    statuses = [
        (value, label, sum(1 for lab in labs if lab.status == value))
        for value, label in Lab.Status.choices
    ]
    return render(
        request,
        "labs/lab_list.html",
        {
            "labs": [lab for lab in labs if not status or lab.status == status],
            "statuses": statuses,
            "status": status,
            "total": len(labs),
        },
    )


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
    return render(request, "labs/lab_detail.html", {"lab": lab})
