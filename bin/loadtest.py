#!/usr/bin/env python3
"""Mixed public traffic against a registry server on this machine, for a fixed time, from a
number of concurrent clients; prints requests per second, latencies and errors, and exits
non-zero on any error. `make loadtest` runs it against `make serve` (README, "Load test").

Each client is a thread with a connection of its own, asking, one request after another, for
what visitors ask for: the home page, searches (text, facets, years, sorting, pages),
agreements, institutions, technologies, labs, and the JSON API. The addresses come from the
server's own API at the start. Requests go as the HTTPS proxy in front would send them.
Standard library only; loopback addresses only; stops by itself."""

import argparse
import http.client
import ipaddress
import json
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from urllib.parse import urlencode, urlsplit

LONGEST_RUN = 600  # seconds: whatever is asked, the test stops by then
WORDS = ["Huawei", "university", "5G", "cloud", "Tianjin", "lab", "intelligence", "data"]


def loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Target:
    def __init__(self, url, host_header):
        parts = urlsplit(url)
        if parts.scheme != "http" or not loopback(parts.hostname or ""):
            sys.exit(f"loadtest: only a server on this machine (http://127.0.0.1:PORT), not {url}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.headers = {"Host": host_header, "X-Forwarded-Proto": "https"}

    def connect(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def get(self, connection, path):
        connection.request("GET", path, headers=self.headers)
        response = connection.getresponse()
        body = response.read()
        return response.status, body


def api_slugs(target, resource, pages=3):
    connection, slugs = target.connect(), []
    for page in range(1, pages + 1):
        status, body = target.get(connection, f"/api/{resource}/?page={page}")
        if status != 200:
            break
        data = json.loads(body)
        slugs += [item.get("slug") or item["key"] for item in data["results"]]  # agreements: key
        if not data["next"]:
            break
    connection.close()
    return slugs


def plan(target):
    """What each kind of visit asks for, and how often (weights of a hundred)."""
    agreements = api_slugs(target, "agreements")
    institutions = api_slugs(target, "institutions")
    areas = api_slugs(target, "focus-areas")
    labs = api_slugs(target, "labs")
    if not (agreements and institutions and areas):
        sys.exit("loadtest: the server has no published agreements to ask for; load data first")

    def search(rng):
        query = {}
        if rng.random() < 0.5:
            query["q"] = rng.choice(WORDS)
        if rng.random() < 0.4:
            query["focus_area"] = rng.choice(areas)
        if rng.random() < 0.3:
            query["institution"] = rng.choice(institutions)
        if rng.random() < 0.2:
            start = rng.randint(2000, 2024)
            query |= {"signed_from": start, "signed_to": start + rng.randint(0, 5)}
        if rng.random() < 0.2:
            query["sort"] = rng.choice(["-signed", "signed", "title"])
        return "/agreements/?" + urlencode(query)

    def pick(items, template):
        return lambda rng: template.format(rng.choice(items))

    return [
        ("home", 10, lambda rng: "/"),
        ("search", 30, search),
        ("agreement", 20, pick(agreements, "/agreements/{}/")),
        ("institution", 10, pick(institutions, "/institutions/{}/")),
        ("technology", 5, pick(areas, "/technologies/{}/")),
        ("lab", 5, pick(labs, "/labs/{}/") if labs else lambda rng: "/labs/"),
        ("api list", 10, lambda rng: "/api/agreements/?" + urlencode({"q": rng.choice(WORDS)})),
        ("api detail", 10, pick(agreements, "/api/agreements/{}/")),
    ]


def client(number, target, visits, deadline, results, errors):
    rng = random.Random(number)  # noqa: S311 - repeatable traffic, not secrets
    kinds, weights = zip(*[(kind, weight) for kind, weight, _ in visits], strict=True)
    paths = {kind: path for kind, _, path in visits}
    connection = target.connect()
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        path = paths[kind](rng)
        started = time.perf_counter()
        try:
            status, _ = target.get(connection, path)
        except (OSError, http.client.HTTPException) as error:
            status = type(error).__name__
            connection.close()
            connection = target.connect()
        results[kind].append(time.perf_counter() - started)
        if status != 200:
            errors[f"{status} {path}"] += 1
    connection.close()


def milliseconds(seconds):
    return f"{seconds * 1000:7.1f}"


def report(results, errors, elapsed, clients):
    every = [latency for latencies in results.values() for latency in latencies]
    total = len(every)
    print(f"{clients} clients, {elapsed:.1f} s: {total} requests, {total / elapsed:.1f} per second")
    print(f"{'':<12} {'requests':>8} {'median':>7} {'p90':>7} {'p99':>7} {'max':>7}  (ms)")
    for kind, latencies in [*sorted(results.items()), ("all", every)]:
        if len(latencies) < 2:
            continue
        cuts = statistics.quantiles(latencies, n=100, method="inclusive")
        print(
            f"{kind:<12} {len(latencies):>8} {milliseconds(statistics.median(latencies))}"
            f" {milliseconds(cuts[89])} {milliseconds(cuts[98])} {milliseconds(max(latencies))}"
        )
    print(f"errors: {sum(errors.values())}")
    for what, count in errors.most_common(10):
        print(f"  {count} × {what}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--host-header",
        default=os.environ.get("ALLOWED_HOSTS", "127.0.0.1").split(",")[0].strip(),
        help="the Host the requests name (default: the first of ALLOWED_HOSTS)",
    )
    options = parser.parse_args()
    target = Target(options.url, options.host_header)
    visits = plan(target)
    seconds = min(options.seconds, LONGEST_RUN)
    results, errors = defaultdict(list), Counter()
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=client, args=(n, target, visits, started + seconds, results, errors)
        )
        for n in range(options.clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report(results, errors, time.monotonic() - started, options.clients)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
