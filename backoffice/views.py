import json
from itertools import islice

from django.http import StreamingHttpResponse

from agreements.views import filtered_agreements
from backoffice.public import public_records, with_related

CHUNK_SIZE = 500


def agreements_jsonl(request):
    """The search's agreements, exactly as on screen, in the interchange format: a file that
    imports into another registry. Streamed, a chunk of agreements at a time."""
    _filterset, agreements = filtered_agreements(request)

    def lines():
        rows = with_related(agreements).iterator(chunk_size=CHUNK_SIZE)
        while chunk := list(islice(rows, CHUNK_SIZE)):
            for record in public_records(chunk, request=request, with_url=False):
                yield json.dumps(record, ensure_ascii=False) + "\n"

    response = StreamingHttpResponse(lines(), content_type="application/jsonl; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="agreements.jsonl"'
    return response
