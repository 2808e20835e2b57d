from django.http import Http404


def agreements_jsonl(request):
    raise Http404
