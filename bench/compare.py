"""Two versions of the code timed in turn on the benchmark's database, in process (Django's
test client, the search cache off): what to run before keeping a change meant to be faster.
The machines here are uneven (README, "Latest figures"): a run of `make bench` minutes later
can differ more than a change does, so the two versions take turns, round after round, and
each page's median is over every round.

    python bench/compare.py REVISION [PATH ...]

REVISION (a commit, `main`, `HEAD~1`) is checked out in a temporary worktree and measured
against the working tree as it is, uncommitted changes included. The paths default to the
benchmark's scenarios 1 to 5. The database is the one `make bench` made (BENCH_DATABASE_URL);
it is read, never changed. Settings (environment): COMPARE_ROUNDS (3), COMPARE_REQUESTS (5
per page and round, after one that warms up).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402 - the benchmark's settings and scenarios, beside this file

ROUNDS = int(os.environ.get("COMPARE_ROUNDS", "3"))
REQUESTS = int(os.environ.get("COMPARE_REQUESTS", "5"))


def measure(root, paths):
    """In a child process: {path: [[ms, SQL ms, queries], ...]} of REQUESTS requests to each
    path, served by the code in `root`."""
    sys.path.insert(0, root)
    os.environ.update(run.env(SEARCH_CACHE="0", DEBUG="0"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    times = {}
    for path in paths:
        client.get(path)
        times[path] = []
        for _ in range(REQUESTS):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise SystemExit(f"{path}: status {response.status_code} in {root}")
            sql = sum(float(query["time"]) for query in captured.captured_queries)
            times[path].append([elapsed * 1000, sql * 1000, len(captured)])
    json.dump(times, sys.stdout)


def main(revision, paths):
    if not paths:
        run.django_setup()
        paths = [path for _, _, path in run.pages()[2]]
    with tempfile.TemporaryDirectory() as folder:
        worktree = str(Path(folder) / "base")
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", worktree, revision],
            cwd=run.ROOT,
            check=True,
        )
        versions = {revision: worktree, "working tree": str(run.ROOT)}
        results = {name: {path: [] for path in paths} for name in versions}
        try:
            for number in range(ROUNDS):
                for name, root in versions.items():
                    run.log(f"round {number + 1} of {ROUNDS}: {name}")
                    child = subprocess.run(
                        [sys.executable, __file__, "--measure", root, *paths],
                        env=run.env(),
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    for path, rows in json.loads(child.stdout).items():
                        results[name][path] += rows
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", worktree], cwd=run.ROOT)
    print(report(revision, results, paths))


def report(revision, results, paths):
    base, ours = results[revision], results["working tree"]
    lines = [
        f"{ROUNDS} rounds of {REQUESTS} requests a page; medians in ms (SQL in brackets).",
        "",
        f"| page | {revision} | working tree | change | queries |",
        "| --- | --- | --- | --- | --- |",
    ]
    for path in paths:
        before, after = (
            [statistics.median(row[i] for row in rows) for i in (0, 1)]
            for rows in (base[path], ours[path])
        )
        queries = f"{base[path][-1][2]} → {ours[path][-1][2]}"
        lines.append(
            f"| `{path}` | {before[0]:.1f} ({before[1]:.1f}) | {after[0]:.1f} ({after[1]:.1f}) | "
            f"{(after[0] - before[0]) / before[0]:+.0%} | {queries} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        measure(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        raise SystemExit(__doc__)
    else:
        main(sys.argv[1], sys.argv[2:])
