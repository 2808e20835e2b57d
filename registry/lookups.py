"""`field__any_of=keys`: the field is one of a collection of integer keys, as with `__in`,
but sent to PostgreSQL as one array parameter, `= ANY(%s)`. As an IN list, each key is
prepared by Django and quoted by psycopg on its own: for the 235 people of an API page, 3.9 ms
a query rather than 1.2 (bench database). The keys are taken as they are, so only for keys read
from the database; elsewhere (SQLite) the same IN list as `__in`."""

from django.core.exceptions import EmptyResultSet
from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        keys = [key for key in self.rhs if key is not None]
        if not keys:
            raise EmptyResultSet
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", (*params, keys)
        return f"{lhs} IN ({', '.join(['%s'] * len(keys))})", (*params, *keys)


# Related fields read only their own lookups, not those of Field.
Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)
