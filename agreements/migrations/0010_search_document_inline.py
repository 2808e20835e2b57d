"""The search documents kept whole in their table's rows (PostgreSQL; SQLite has views).

A row of agreements_searchdocument (the texts the search matches, the title and summary that
rank them, the CSV download's lists) is about 2 kB, over PostgreSQL's default limit of a
quarter page, so most documents were compressed or moved out to the TOAST table: a search
term that matched 8,000 of 100,000 agreements read 38,000 pages to check them, rather than
the 7,000 that hold them, and took twice as long (65 ms, not 31, warm; bench/results.md).
Rows up to a page (8,160 bytes) now stay in it as they are, larger ones are compressed in it
first; the table grows from 140 MB to 230 MB and its TOAST table shrinks as much.
"""

import importlib

from django.db import migrations

# 0009's runner: its SQL on PostgreSQL, nothing on SQLite (views there).
run = importlib.import_module("agreements.migrations.0009_deferred_search_refresh").run
COLUMNS = ["title", "summary", "document"]
INLINE = f"""
ALTER TABLE agreements_searchdocument SET (toast_tuple_target = 8160),
    {", ".join(f"ALTER COLUMN {column} SET STORAGE MAIN" for column in COLUMNS)};
-- Written again, so that the documents there already are stored so too (emptied first: a
-- rewrite in place would leave the table twice its size).
TRUNCATE agreements_searchdocument;
SELECT search_refresh_now(ARRAY(SELECT id FROM agreements_agreement ORDER BY id), false, true);
"""
DEFAULT = f"""
ALTER TABLE agreements_searchdocument RESET (toast_tuple_target),
    {", ".join(f"ALTER COLUMN {column} SET STORAGE EXTENDED" for column in COLUMNS)};
"""


class Migration(migrations.Migration):
    dependencies = [("agreements", "0009_deferred_search_refresh")]

    operations = [migrations.RunPython(run(INLINE), run(DEFAULT))]
