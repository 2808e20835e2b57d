"""The public pages of single records: an agreement, an institution, a person, a technology."""

from django.http import Http404


def agreement_detail(request, slug):
    raise Http404


def institution_list(request):
    raise Http404


def institution_detail(request, slug):
    raise Http404


def person_detail(request, slug):
    raise Http404


def focus_area_list(request):
    raise Http404


def focus_area_detail(request, slug):
    raise Http404
