"""The benchmark's reports (bench/): the figures they print are the ones measured."""

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))  # compare.py imports run.py beside it, as when run as a script


def bench_module(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_comparison_reports_medians_their_change_and_the_queries():
    compare = bench_module("compare")
    results = {
        "main": {"/a/": [[100, 40, 9], [300, 60, 9], [120, 50, 9]]},
        "working tree": {"/a/": [[90, 30, 8], [60, 20, 8], [75, 25, 8]]},
    }
    row = compare.report("main", results, ["/a/"]).splitlines()[-1]
    assert row == "| `/a/` | 120.0 (50.0) | 75.0 (25.0) | -38% | 9 → 8 |"


def test_the_machine_speed_is_reported_before_and_after():
    run = bench_module("run")
    text = run.render_speeds([(0.591, 1064.2), (0.604, 859.4)])
    assert "0.59 s before the scenarios and 0.60 s after" in text
    assert "1064 ms before and 859 ms after" in text


def test_other_searches_are_reported_with_their_figures_and_no_target():
    run = bench_module("run")
    result = {"median": 612.34, "p99": 880.0, "errors": 0}
    text = run.render_others(
        "Other searches",
        [("one click: companies", "/agreements/?kind=company", result)],
        {"/agreements/?kind=company": 11},
    )
    assert "no target" in text
    assert text.splitlines()[-1] == (
        "| one click: companies | `/agreements/?kind=company` | 612.3 | 880.0 | 0 | 11 |"
    )
