"""The OpenAPI description of the API. The agreement list's parameters are read from the
FilterSet itself, so the description cannot drift from what the search accepts."""

import django_filters as filters
from django.http import JsonResponse

from agreements.filters import ApiAgreementFilter, InstantFilter, YearFilter
from api.views import INDEX_LINKS, read_only
from labs.models import Lab


def listed(items):
    return {"type": "array", "items": items}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def parameter(name, filter_):
    field = filter_.field
    if isinstance(filter_, YearFilter):
        schema = {"type": "integer", "minimum": field.min_value, "maximum": field.max_value}
    elif isinstance(filter_, InstantFilter):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(filter_, filters.ModelMultipleChoiceFilter):
        schema = {"type": "array", "items": {"type": "string", "description": "slug"}}
    elif isinstance(filter_, filters.MultipleChoiceFilter):
        choices = [value for value, _ in field.choices]
        schema = {"type": "array", "items": {"type": "string", "enum": choices}}
    elif isinstance(filter_, filters.ChoiceFilter):
        schema = {"type": "string", "enum": [value for value, _ in field.choices if value]}
    else:
        schema = {"type": "string"}
        if getattr(field, "max_length", None):
            schema["maxLength"] = field.max_length
    spec = {
        "name": name,
        "in": "query",
        "required": False,
        "description": str(filter_.label),
        "schema": schema,
    }
    if schema["type"] == "array":
        spec.update(style="form", explode=True)
    return spec


PAGE = {
    "name": "page",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1},
}
SLUG = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
ERRORS = {
    "description": "What is wrong, by parameter",
    "content": {"application/json": {"schema": ref("Errors")}},
}
# Any address of the API may answer these, in the same JSON as its 400s and 404s: a method
# other than GET or HEAD (registry.views, api.views.read_only), a failure, the database down
# (registry.middleware).
FAILURES = {
    "405": {**ERRORS, "description": "Asked with a method other than GET or HEAD"},
    "500": {**ERRORS, "description": "The registry failed to answer"},
    "503": {**ERRORS, "description": "The database cannot be reached; try again later"},
}


def page_of(item):
    return {
        "type": "object",
        "required": ["count", "next", "previous", "results"],
        "properties": {
            "count": {"type": "integer"},
            "next": {"type": ["string", "null"], "format": "uri"},
            "previous": {"type": ["string", "null"], "format": "uri"},
            "results": listed(ref(item)),
        },
    }


def json_response(schema):
    return {"description": "OK", "content": {"application/json": {"schema": schema}}}


def endpoint(path, item, summary, parameters=(), one=None, *, detail_responses=None):
    """A list of `item`s and its records, each `one` (default: an `item`) at its own address."""
    return {
        f"/api/{path}/": {
            "get": {
                "summary": f"Public {summary}, 50 a page",
                "parameters": [*parameters, PAGE],
                "responses": {"200": json_response(page_of(item)), "400": ERRORS, **FAILURES},
            }
        },
        f"/api/{path}/{{slug}}/": {
            "get": {
                "summary": f"One of the public {summary}",
                "parameters": [SLUG],
                "responses": {
                    "200": json_response(ref(one or item)),
                    "404": ERRORS,
                    **(detail_responses or {}),
                    **FAILURES,
                },
            }
        },
    }


def text(*names):
    return {name: {"type": "string"} for name in names}


def maybe_text(*names):
    """Text that may be missing: null, as the interchange format writes it, never ""."""
    return {name: {"type": ["string", "null"]} for name in names}


def count(*names):
    return {name: {"type": "integer"} for name in names}


def record(*required, **properties):
    return {"type": "object", "required": list(required), "properties": properties}


URL = {"url": {"type": "string", "format": "uri", "description": "the public page"}}
DATE = {"type": ["string", "null"], "description": "YYYY-MM-DD, YYYY-MM or YYYY"}
NAMES = listed({"type": "string"})
# The parts of an agreement, as the interchange format writes them (interchange.md).
PARTS = {
    "InstitutionReference": record(
        "name",
        **text("name", "kind"),
        **maybe_text("native_name", "acronym", "country", "city", "website", "ror", "wikidata"),
        aliases=NAMES,
        parent={"anyOf": [ref("InstitutionReference"), {"type": "null"}]},
    ),
    "Party": record(
        "institution",
        institution=ref("InstitutionReference"),
        unit={"anyOf": [ref("InstitutionReference"), {"type": "null"}]},
    ),
    "Participant": record(
        "person",
        "role",
        person=record("name", **text("key", "name"), **maybe_text("native_name"), aliases=NAMES),
        role={"type": "string", "enum": ["signatory", "witness", "attendee"]},
        **maybe_text("title"),
        organisation={"anyOf": [ref("InstitutionReference"), {"type": "null"}]},
        on_behalf_of={"type": ["string", "null"], "description": "a party's name"},
    ),
    "AgreementLab": record(
        "name",
        **text("name", "status", "outcome"),
        **maybe_text("description"),
        established_on=DATE,
        hosts=listed(ref("InstitutionReference")),
        focus_areas=NAMES,
    ),
    "Source": record(**maybe_text("url", "title", "publisher", "note"), published_on=DATE),
    "Photo": record(**maybe_text("caption", "image_url", "credit")),
    "Relation": record("type", "key", **text("type", "key")),
}
SCHEMAS = {
    "Errors": {
        "type": "object",
        "properties": {
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            }
        },
    },
    "Agreement": {
        "type": "object",
        "description": "An agreement in the interchange format (see interchange.md), plus url, "
        "published_at and updated_at.",
        "properties": {
            **text("key", "title", "agreement_type", "status"),
            **maybe_text("place", "summary"),
            "signed_on": DATE,
            "term": record(starts_on=DATE, ends_on=DATE, years={"type": ["integer", "null"]}),
            "parties": listed(ref("Party")),
            "participants": listed(ref("Participant")),
            "focus_areas": NAMES,
            "labs": listed(ref("AgreementLab")),
            "sources": listed(ref("Source")),
            "photos": listed(ref("Photo")),
            "relations": listed(ref("Relation")),
            **URL,
            "published_at": {
                "type": "string",
                "format": "date-time",
                "description": "when it was first published in the registry, in UTC (kept "
                "when it is withdrawn and published again)",
            },
            "updated_at": {
                "type": "string",
                "format": "date-time",
                "description": "when what the public sees of it last changed, in UTC",
            },
        },
    },
    "Withdrawal": record(
        "key",
        "withdrawn_at",
        key={"type": "string"},
        withdrawn_at={
            "type": "string",
            "format": "date-time",
            "description": "when it last left the public record, in UTC",
        },
    ),
    "Institution": {
        "type": "object",
        "properties": {
            **text("slug", "name", "kind"),
            **maybe_text("native_name", "acronym", "country", "city", "website", "ror", "wikidata"),
            "aliases": {"type": "array", "items": {"type": "string"}},
            "parent": {"type": ["string", "null"], "description": "slug"},
            **count("agreement_count"),
            **URL,
        },
    },
    # At its own address, an institution lists its units too, as its page does.
    "InstitutionWithUnits": {
        "allOf": [
            ref("Institution"),
            record(
                "units",
                units={
                    "type": "array",
                    "items": {"type": "string", "description": "slug"},
                    "description": "its own units with a public page, by name (theirs at their "
                    "addresses)",
                },
            ),
        ]
    },
    "Person": {
        "type": "object",
        "properties": {
            **text("slug", "name"),
            **maybe_text("native_name"),
            "aliases": {"type": "array", "items": {"type": "string"}},
            "roles": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        **text("agreement", "role"),
                        **maybe_text("title"),
                        "organisation": {"type": ["string", "null"], "description": "name"},
                    },
                },
            },
            **URL,
        },
    },
    "Lab": {
        "type": "object",
        "properties": {
            **text("slug", "name", "status"),
            **maybe_text("description"),
            "established_on": {"type": ["string", "null"]},
            "hosts": {"type": "array", "items": {"type": "string"}},
            "focus_areas": {"type": "array", "items": {"type": "string"}},
            "agreements": {
                "type": "array",
                "items": {"type": "object", "properties": text("key", "outcome")},
            },
            **URL,
        },
    },
    "FocusArea": {
        "type": "object",
        "properties": {
            **text("slug", "name"),
            **maybe_text("group"),
            **count("agreement_count", "lab_count"),
            **URL,
        },
    },
}


def document():
    agreement_parameters = [
        parameter(name, filter_) for name, filter_ in ApiAgreementFilter.base_filters.items()
    ]
    # Repeatable, several OR'd, as the agreements' (api.views.chosen).
    kind = parameter("kind", ApiAgreementFilter.base_filters["kind"])
    since = {
        "name": "since",
        "in": "query",
        "required": False,
        "description": "Withdrawn at or after (ISO 8601, UTC by default)",
        "schema": {"type": "string", "format": "date-time"},
    }
    status = {
        "name": "status",
        "in": "query",
        "required": False,
        "description": "Status",
        "schema": {"type": "array", "items": {"type": "string", "enum": list(Lab.Status.values)}},
        "style": "form",
        "explode": True,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Partnership Registry API",
            "version": "1",
            "description": "Read-only. Only published agreements, and what they make public.",
        },
        "paths": {
            "/api/": {
                "get": {
                    "summary": "The address of each list and of this description",
                    "responses": {
                        "200": json_response(
                            {
                                "type": "object",
                                "required": INDEX_LINKS,
                                "properties": {
                                    name: {"type": "string", "format": "uri"}
                                    for name in INDEX_LINKS
                                },
                            }
                        ),
                        **FAILURES,
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This description",
                    "responses": {"200": json_response({"type": "object"}), **FAILURES},
                }
            },
            **endpoint(
                "agreements",
                "Agreement",
                "agreements",
                agreement_parameters,
                detail_responses={
                    "301": {
                        "description": "a key changed while published: the record under its "
                        "new key (Location)"
                    },
                    "410": {**ERRORS, "description": "a key once public, withdrawn or deleted"},
                },
            ),
            "/api/withdrawn/": {
                "get": {
                    "summary": "The keys once public and no longer: agreements withdrawn or "
                    "deleted, and the old keys of those whose key changed while published (the "
                    "last time each left the public record, the earliest first), 50 a page",
                    "parameters": [since, PAGE],
                    "responses": {
                        "200": json_response(page_of("Withdrawal")),
                        "400": ERRORS,
                        **FAILURES,
                    },
                }
            },
            **endpoint(
                "institutions", "Institution", "institutions", [kind], "InstitutionWithUnits"
            ),
            **endpoint("people", "Person", "people"),
            **endpoint("labs", "Lab", "joint labs", [status]),
            **endpoint("focus-areas", "FocusArea", "focus areas"),
        },
        "components": {"schemas": {**SCHEMAS, **PARTS}},
    }


@read_only
def schema(request):
    return JsonResponse(document(), json_dumps_params={"ensure_ascii": False})
