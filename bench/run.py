"""The benchmark behind `make bench` (README, "Performance"): N synthetic agreements in
PostgreSQL, the app under gunicorn, driven over loopback by a small load tool (threads with
keep-alive connections, each for BENCH_SECONDS) at 1 and 8 clients, with the search cache off
and on. Prints the table and writes it to bench/results.md.

Settings (environment): BENCH_N (100000), BENCH_SECONDS (10), BENCH_IMPORT_LINES (BENCH_N;
0 leaves the import out), BENCH_IMPORT_TIMEOUT (900), BENCH_DATABASE_URL
(postgres://postgres@127.0.0.1:5432/bench; the database and one named like it with `_import`
are dropped and made again), BENCH_REDIS_URL (redis://127.0.0.1:6379/15, emptied; used for the
cache-on runs), BENCH_REUSE (1: measure the database BENCH_DATABASE_URL names as it is, after
migrating it, instead of making it again: a second run skips the ten minutes of generating;
the import is then measured only if the interchange file of an earlier run is there).
"""

import csv
import http.client
import io
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
N = int(os.environ.get("BENCH_N", "100000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
IMPORT_LINES = int(os.environ.get("BENCH_IMPORT_LINES", str(N)))
IMPORT_TIMEOUT = float(os.environ.get("BENCH_IMPORT_TIMEOUT", "900"))
REUSE = os.environ.get("BENCH_REUSE", "") == "1"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
IMPORT_DATABASE_URL = DATABASE_URL + "_import"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
WORKERS = 4  # gunicorn processes: enough for 8 clients on a small machine
CSV_REPEAT = 3  # downloads of each CSV; the median counts
DATA = ROOT / "bench" / "data"
TARGETS = {"1": 100, "2": 100, "3": 100, "4a": 30, "4b": 30, "5": 60}


def log(message):
    print(message, file=sys.stderr, flush=True)


def env(**extra):
    return {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "DATABASE_CONN_MAX_AGE": "600",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def manage(*args, database_url=DATABASE_URL, timeout=None):
    subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env(DATABASE_URL=database_url),
        check=True,
        timeout=timeout,
    )


def recreate(url):
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving the app on a free port of 127.0.0.1."""

    def __init__(self, workers, **settings):
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "registry.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--timeout",
                "300",
                "--log-level",
                "warning",
            ],  # fmt: skip
            cwd=ROOT,
            env=env(**settings),
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def workers_peak_memory(self):
        """The largest peak resident memory (MB) of any worker since it started."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        peaks = []
        for pid in children.read_text().split():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def get(connection, path, cookie=""):
    headers = {"Host": "127.0.0.1", **({"Cookie": cookie} if cookie else {})}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    return response.status, body


def warm_up(port, path, cookie=""):
    """The status of one request to `path`, untimed: it loads the worker's code and, with the
    cache on, fills it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        return get(connection, path, cookie)[0]
    finally:
        connection.close()


def load(port, path, clients, cookie=""):
    """Each client asks for `path` again and again for SECONDS; latencies (ms) and errors."""
    latencies, errors, stop = [], [], time.monotonic() + SECONDS
    lock = threading.Lock()

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine, failed = [], 0
        while time.monotonic() < stop:
            start = time.perf_counter()
            try:
                status, _ = get(connection, path, cookie)
            except (OSError, http.client.HTTPException):
                status = 0
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            mine.append((time.perf_counter() - start) * 1000)
            failed += status != 200
        with lock:
            latencies.extend(mine)
            errors.append(failed)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    return {
        "median": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "rps": len(latencies) / elapsed,
        "errors": sum(errors),
        "requests": len(latencies),
    }


def django_setup():
    os.environ.update(env())
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    import django

    django.setup()


def pages():
    """(company, agreement, [(number, label, path), ...], [(label, path), ...]): the most
    frequent company's slug, an agreement's, the scenarios' pages and the other searches',
    from the database (after django_setup)."""
    from django.db import connection

    from agreements.search_index import COUNTRY, FOCUS_AREA, SearchTotal
    from registry.models import FocusArea

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.slug FROM agreements_party p JOIN registry_institution i "
            "ON i.id = p.institution_id WHERE i.kind = 'company' "
            "GROUP BY i.slug ORDER BY count(*) DESC LIMIT 1"
        )
        company = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM agreements_agreement WHERE status = 'published'")
        published = cursor.fetchone()[0]
        cursor.execute(
            "SELECT slug FROM agreements_agreement WHERE status = 'published' "
            "ORDER BY slug OFFSET %s LIMIT 1",
            # The same agreement as ever at BENCH_N; on a database of fewer (`make compare`
            # after a quick run, BENCH_N not given again), one a third of the way in.
            [N // 3 if published > N // 3 else published // 3],
        )
        agreement = cursor.fetchone()[0]
    scenarios = [
        ("1", "search, most frequent company, every facet", f"/agreements/?institution={company}"),
        ("2", 'search "smart city", every facet', "/agreements/?q=smart+city"),
        ("3", "search, unfiltered, every facet", "/agreements/"),
        ("4a", "an agreement's page", f"/agreements/{agreement}/"),
        ("4b", "the most frequent company's page", f"/institutions/{company}/"),
        ("5", "API, a page of 50 agreements", "/api/agreements/"),
    ]
    # A click on one value of a facet of the unfiltered search: no target names these, but a
    # visitor makes them more than any text search. The most frequent values, as counted.
    top = {
        facet: SearchTotal.objects.filter(scope=0, facet=facet).order_by("-n", "value")[0].value
        for facet in (COUNTRY, FOCUS_AREA)
    }
    area = FocusArea.objects.get(pk=top[FOCUS_AREA]).slug
    others = [
        ("one click: companies", "/agreements/?kind=company"),
        (
            f"one click: the most frequent country ({top[COUNTRY]})",
            f"/agreements/?country={top[COUNTRY]}",
        ),
        (f"one click: the most frequent technology ({area})", f"/agreements/?focus_area={area}"),
        ("one click: with a joint lab", "/agreements/?has_lab=true"),
        ('text "university"', "/agreements/?q=university"),
        # The feeds a reader polls: the latest published, read from their index.
        ("the feed of every agreement", "/agreements/feed.atom"),
        ("the feed of the most frequent company", f"/agreements/feed.atom?institution={company}"),
    ]
    return company, agreement, scenarios, others


def back_office(company):
    """(the user, a session cookie of theirs, [(label, path), ...]): the back office's pages
    that grow with the registry, as a superuser sees them (after django_setup)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from agreements.models import Agreement
    from registry.models import Institution

    user, _ = get_user_model().objects.update_or_create(
        username="bench-staff", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    name = Institution.objects.get(slug=company).name
    draft = Agreement.objects.filter(status="draft").order_by("pk").values_list("pk", flat=True)[0]
    agreements = "/admin/agreements/agreement/"
    staff_pages = [
        ("the agreements", agreements),
        ("the drafts", f"{agreements}?status__exact=draft"),
        ("search: the most frequent company's name", f"{agreements}?{urlencode({'q': name})}"),
        ('search: "smart city"', f"{agreements}?q=smart+city"),
        ("a draft's form", f"{agreements}{draft}/change/"),
        ("the institutions", "/admin/registry/institution/"),
        ("the people", "/admin/people/person/"),
        (
            'a party\'s institution typed: "uni"',
            "/admin/autocomplete/?app_label=agreements&model_name=party&field_name=institution"
            "&term=uni",
        ),
    ]
    return user, cookie, staff_pages


def queries_per_request(path, user=None):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    if user:
        client.force_login(user)
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
    return len(captured)


def csv_rows(body):
    """The rows of a CSV download, its header left out: its lines are more where a summary
    holds a line break."""
    return sum(1 for _ in csv.reader(io.StringIO(body.decode()))) - 1


def csv_memory(rows):
    """Peak Python memory (MB, tracemalloc) of writing the CSV of `rows` agreements."""
    from agreements.exports import csv_lines
    from agreements.models import Agreement

    ids = Agreement.objects.published().values("pk")[:rows]
    agreements = Agreement.objects.filter(pk__in=ids)
    tracemalloc.start()
    for _piece in csv_lines(agreements, absolute_url=lambda slug: "x"):
        pass
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    # Counted after, not by reading the pieces (whose lines a summary may break), which would
    # add to what is measured.
    return agreements.count(), peak


def machine_speed():
    """(Python s, PostgreSQL ms): a fixed piece of work in each, the best of three. The figures
    of two runs compare only as these do: the same code measured three times slower on a
    machine where these took three times longer (README, "Latest figures")."""
    from django.db import connection

    def python_work():
        total = 0
        for number in range(5_000_000):
            total += number

    def database_work():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM generate_series(1, 3000000)")

    def best(work):
        times = []
        for _ in range(3):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return min(times)

    return best(python_work), best(database_work) * 1000


def main():
    DATA.mkdir(exist_ok=True)
    jsonl = DATA / f"agreements-{N}.jsonl"
    if REUSE:
        log(f"== the agreements already in {DATABASE_URL}")
        manage("migrate", "--no-input", "-v0")
        generated = None
    else:
        log(f"== {N} agreements into {DATABASE_URL}")
        recreate(DATABASE_URL)
        manage("migrate", "--no-input", "-v0")
        started = time.monotonic()
        manage("generate_data", "--agreements", str(N), "--jsonl", str(jsonl))
        generated = time.monotonic() - started
    subprocess.run(["psql", DATABASE_URL, "-q", "-c", "VACUUM ANALYZE"], check=True)
    django_setup()
    calibration = [machine_speed()]

    company, agreement, scenarios, others = pages()
    staff, cookie, staff_pages = back_office(company)
    queries = {number: queries_per_request(path) for number, _, path in scenarios}
    queries |= {path: queries_per_request(path) for _, path in others}
    queries |= {path: queries_per_request(path, staff) for _, path in staff_pages}

    rows, other_rows, staff_rows = [], [], []
    for cache in ("off", "on"):
        settings = {"SEARCH_CACHE": "1" if cache == "on" else "0"}
        if cache == "on":
            settings["REDIS_URL"] = REDIS_URL
            subprocess.run(
                ["redis-cli", "-u", REDIS_URL, "FLUSHDB"], check=True, capture_output=True
            )
        server = Server(WORKERS, **settings)
        try:
            for number, label, path in scenarios:
                status = warm_up(server.port, path)
                for clients in (1, 8):
                    log(f"cache {cache}, scenario {number}, {clients} client(s)")
                    result = load(server.port, path, clients)
                    rows.append((number, label, cache, clients, result, status))
            if cache == "off":
                for label, path in others:
                    log(f"cache off, {label}, 1 client")
                    warm_up(server.port, path)
                    other_rows.append((label, path, load(server.port, path, 1)))
                for label, path in staff_pages:
                    log(f"cache off, back office: {label}, 1 client")
                    warm_up(server.port, path, cookie)
                    staff_rows.append((label, path, load(server.port, path, 1, cookie)))
        finally:
            server.stop()

    log("CSV downloads")
    server = Server(1, SEARCH_CACHE="0")
    downloads = []
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=3600)
        # A new worker's first request loads the code, connects and reads the templates:
        # half a second that is not the download's. An empty download pays for it.
        get(connection, "/agreements/export.csv?q=no-agreement-holds-this")
        for label, path in [
            ("scenario 1's result", f"/agreements/export.csv?institution={company}"),
            ("all agreements", "/agreements/export.csv"),
        ]:
            speeds = []
            for _ in range(CSV_REPEAT):
                started = time.perf_counter()
                status, body = get(connection, path)
                took = time.perf_counter() - started
                lines = csv_rows(body)
                speeds.append(lines / took)
            rate = statistics.median(speeds)
            downloads.append((label, status, lines, rate, server.workers_peak_memory()))
    finally:
        server.stop()
    flat = [csv_memory(size) for size in (2000, 20000)]

    imported, import_peak = measure_import(jsonl)
    calibration.append(machine_speed())
    report = render(
        rows, queries, downloads, flat, generated, imported, import_peak, company, agreement
    )
    report += render_others("Other searches and their feeds", other_rows, queries)
    report += render_others("The back office, a superuser's pages", staff_rows, queries)
    report += render_speeds(calibration)
    (ROOT / "bench" / "results.md").write_text(report)
    print(report)


def measure_import(jsonl):
    """Seconds and peak MB of importing IMPORT_LINES of `jsonl` into an empty database;
    (False, None) when left out."""
    if not IMPORT_LINES or not jsonl.exists():
        return False, None
    log(f"Import of {IMPORT_LINES} lines into an empty database")
    recreate(IMPORT_DATABASE_URL)
    manage("migrate", "--no-input", "-v0", database_url=IMPORT_DATABASE_URL)
    part = DATA / f"agreements-{N}-first-{IMPORT_LINES}.jsonl"
    with jsonl.open() as source, part.open("w") as target:
        for number, line in enumerate(source):
            if number >= IMPORT_LINES:
                break
            target.write(line)
    # Through a process of its own, whose only child is the import: its peak memory is the
    # import's alone.
    measure = (
        "import resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[2:], timeout=float(sys.argv[1])).returncode == 0; "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if done else 'failed')"
    )
    started = time.monotonic()
    result = subprocess.run(
        [
            PYTHON,
            "-c",
            measure,
            str(IMPORT_TIMEOUT),
            PYTHON,
            "manage.py",
            "import_agreements",
            str(part),
        ],  # fmt: skip
        cwd=ROOT,
        env=env(DATABASE_URL=IMPORT_DATABASE_URL),
        capture_output=True,
        text=True,
    )
    imported = time.monotonic() - started
    if result.returncode or "failed" in result.stdout:  # over the time limit, or an error
        log(result.stderr[-2000:])
        return None, float("nan")
    return imported, int(result.stdout.split()[-1]) / 1024


def render_others(title, rows, queries):
    """Pages no target names, each for SECONDS with one client and the cache off."""
    lines = [
        "",
        f"{title}, no target (1 client, cache off):",
        "",
        "| page | address | median ms | p99 ms | errors | queries |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for label, path, result in rows:
        lines.append(
            f"| {label} | `{path}` | {result['median']:.1f} | {result['p99']:.1f} | "
            f"{result['errors']} | {queries[path]} |"
        )
    return "\n".join(lines) + "\n"


def render_speeds(speeds):
    (python_before, database_before), (python_after, database_after) = speeds
    return (
        "\nMachine speed, to compare runs by (the best of three; lower is faster): Python, five "
        f"million additions in a loop, {python_before:.2f} s before the scenarios and "
        f"{python_after:.2f} s after the import; PostgreSQL, counting three million generated "
        f"rows, {database_before:.0f} ms before and {database_after:.0f} ms after.\n"
    )


def render(rows, queries, downloads, flat, generated, imported, import_peak, company, agreement):
    machine = (
        f"{platform.node()}: {os.cpu_count()} CPU(s), "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB, "
        f"{platform.platform()}, Python {platform.python_version()}"
    )
    lines = [
        f"# Benchmark: {N:,} agreements on PostgreSQL",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M %Z')} on {machine}; gunicorn with {WORKERS} "
        f"workers, the load tool on the same machine over loopback, {SECONDS:.0f} s per line. "
        + (f"Data generated in {generated:.0f} s " if generated else "An existing database ")
        + f"(most frequent company: `{company}`; agreement: `{agreement}`).",
        "",
        "| # | scenario | cache | clients | median ms | p99 ms | req/s | errors | queries | "
        "target (1 client, cache off) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for number, label, cache, clients, result, _status in rows:
        target = TARGETS.get(number)
        goal = ""
        if cache == "off" and clients == 1 and target:
            met = "met" if result["median"] <= target else "**missed**"
            goal = f"median ≤ {target} ms: {met}"
        if number == "1" and cache == "off" and clients == 8:
            met = "met" if result["rps"] >= 25 and not result["errors"] else "**missed**"
            goal = f"≥ 25 req/s, no errors: {met}"
        lines.append(
            f"| {number} | {label} | {cache} | {clients} | {result['median']:.1f} | "
            f"{result['p99']:.1f} | {result['rps']:.1f} | {result['errors']} | "
            f"{queries[number]} | {goal} |"
        )
    lines += [
        "",
        "| 6 | CSV download | status | rows | rows/s | serving process peak MB | target |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, status, count, rate, peak in downloads:
        met = "met" if rate >= 20000 and peak < 200 else "**missed**"
        lines.append(
            f"| 6 | {label} | {status} | {count:,} | {rate:,.0f} | {peak:.0f} | "
            f"≥ 20,000 rows/s, < 200 MB: {met} |"
        )
    (rows_a, peak_a), (rows_b, peak_b) = flat
    lines += [
        "",
        f"Each CSV: the median of {CSV_REPEAT} downloads by one gunicorn worker, after an empty "
        "download has loaded its code.",
        "",
        f"CSV memory as rows grow (tracemalloc, in process): {rows_a:,} rows {peak_a:.1f} MB, "
        f"{rows_b:,} rows {peak_b:.1f} MB.",
        "",
    ]
    if imported is False:
        lines.append("7. The import was not measured in this run (BENCH_REUSE or no lines).")
    elif imported is None:
        lines.append(
            f"7. Import of {IMPORT_LINES:,} interchange lines: not finished within "
            f"{IMPORT_TIMEOUT:.0f} s (**missed**); peak memory {import_peak:.0f} MB."
        )
    else:
        lines.append(
            f"7. Import of {IMPORT_LINES:,} interchange lines into an empty database: "
            f"{imported:.0f} s ({IMPORT_LINES / imported:,.0f} lines/s), peak memory "
            f"{import_peak:.0f} MB (target for 100,000: < 180 s, < 1 GB)."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
