"""``autoheal check``: score any script file against a labelled CSV, outside the workflow.

Why this shape: a person (or CI) checking a hand-edited or downloaded script must get exactly
the numbers the workflow would give, so this command has no logic of its own beyond argument
handling and printing.  Pages come from :mod:`autoheal.samples` (same parsing, same
content-stable train/test split), the script runs in the same :class:`autoheal.sandbox.Sandbox`
and is scored by the same :func:`autoheal.evaluate.evaluate_script` / :mod:`autoheal.scoring`.

Exit codes: 0 when the pass rate (share of pages with every field right) is at least
``--min-pass-rate``; 1 when it is below; 2 for usage errors and when the check cannot run at
all (unreadable CSV, unknown store, sandbox below ``--min-tier``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]

_MAX_SHOWN = 80


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autoheal check",
        description="Score an extraction script against a labelled CSV through the sandbox.",
    )
    parser.add_argument("script", help="Python file defining extract(html) -> dict")
    parser.add_argument(
        "--data",
        required=True,
        help="CSV (or .csv.gz) with STORE_ID, RAW_DOM, GROUND_TRUTH_<FIELD>",
    )
    parser.add_argument(
        "--store", help="STORE_ID to score (required when the CSV has several stores)"
    )
    parser.add_argument("--split", choices=("all", "train", "test"), default="all")
    parser.add_argument("--min-pass-rate", type=float, default=70.0, metavar="PCT")
    parser.add_argument("--test-fraction", type=float, default=0.5)
    parser.add_argument(
        "--min-tier",
        choices=("A", "B", "C"),
        default="C",
        help="minimum sandbox tier (the workflow's sandbox_min_tier)",
    )
    parser.add_argument("--soft-timeout", type=float, default=2.0, metavar="S")
    parser.add_argument("--hard-timeout", type=float, default=5.0, metavar="S")
    parser.add_argument("--load-timeout", type=float, default=10.0, metavar="S")
    parser.add_argument(
        "--max-failures", type=int, default=20, help="failed pages listed (default 20)"
    )
    return parser


def _short(value: object) -> str:
    if value is None:
        return "None"
    text = " ".join(str(value).split())
    return repr(text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "...")


def _usage(message: str) -> int:
    print(f"autoheal check: error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help is 0, bad usage is 2
        return int(exc.code or 0)
    if not 0.0 < args.test_fraction < 1.0:
        return _usage("--test-fraction must be between 0 and 1")
    if not 0.0 <= args.min_pass_rate <= 100.0:
        return _usage("--min-pass-rate must be between 0 and 100")
    script = Path(args.script)
    if not script.is_file():
        return _usage(f"script not found: {script}")
    if not Path(args.data).is_file():
        return _usage(f"data file not found: {args.data}")

    from .evaluate import evaluate_script
    from .samples import field_types, read_stores, split_pages
    from .sandbox import SandboxUnavailable

    try:
        stores = read_stores(args.data)
    except (ValueError, OSError) as exc:
        return _usage(str(exc))
    if args.store is None:
        if len(stores) != 1:
            return _usage(
                f"--store is required: {args.data} has {len(stores)} stores ({', '.join(sorted(stores)[:10])})"
            )
        args.store = next(iter(stores))
    if args.store not in stores:
        return _usage(
            f"store {args.store!r} not in {args.data} (stores: {', '.join(sorted(stores)[:10])})"
        )
    store_pages = stores[args.store]
    fields = list(dict.fromkeys(f for page in store_pages for f in page.truth))
    types = field_types(store_pages, fields)
    if args.split == "all":
        pages = store_pages
    else:
        train, test = split_pages(store_pages, args.test_fraction)
        pages = train if args.split == "train" else test
    if not pages:
        return _usage(f"store {args.store!r} has no pages in split {args.split!r}")

    options = {
        "soft_timeout_s": args.soft_timeout,
        "hard_timeout_s": args.hard_timeout,
        "load_timeout_s": args.load_timeout,
        "min_tier": args.min_tier,
    }
    try:
        evaluation = evaluate_script(script, pages, fields, types, sandbox_options=options)
    except SandboxUnavailable as exc:
        return _usage(str(exc))

    _print_report(args, script, evaluation, fields, types, pages)
    passed = (evaluation["all_pct"] or 0.0) >= args.min_pass_rate
    print(
        f"RESULT: {'PASS' if passed else 'FAIL'} (pass rate {evaluation['all_pct']}% "
        f"{'>=' if passed else '<'} {args.min_pass_rate:g}%)"
    )
    return 0 if passed else 1


def _print_report(args, script: Path, evaluation: dict, fields, types, pages) -> None:
    by_id = {page.page_id: page for page in pages}
    n = evaluation["pages"]
    print(f"script:  {script}")
    print(f"data:    {args.data}  store: {args.store}  split: {args.split}  pages: {n}")
    print(f"sandbox: tier {evaluation['tier']}  median latency: {evaluation['latency_ms']} ms")
    print()
    width = max([len(f) for f in fields] + [len("all fields")])
    print(f"{'field':<{width}}  {'type':<6}  {'correct':>9}  {'pct':>6}")
    for field in fields:
        right = sum(1 for r in evaluation["results"] if r["correct"].get(field))
        print(
            f"{field:<{width}}  {types[field]:<6}  {right:>4}/{n:<4}  {evaluation['field_pct'][field]:>5}%"
        )
    print(
        f"{'all fields':<{width}}  {'':<6}  {evaluation['pages_passed']:>4}/{n:<4}  {evaluation['all_pct']:>5}%"
    )
    failed = [r for r in evaluation["results"] if not all(r["correct"].values())]
    if failed:
        print()
        print(f"failures ({len(failed)} page(s), first {min(len(failed), args.max_failures)}):")
    for res in failed[: args.max_failures]:
        page = by_id[res["page_id"]]
        print(f"  row {res['row']} page {res['page_id']}:")
        if res["error"]:
            print(f"    {res['error_kind']}: {res['error']}")
        for field, ok in res["correct"].items():
            if not ok:
                got = (res["got"] or {}).get(field)
                print(f"    {field}: expected {_short(page.truth.get(field))}, got {_short(got)}")
    print()
