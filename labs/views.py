from django.http import Http404


def lab_list(request):
    raise Http404


def lab_detail(request, slug):
    raise Http404
