"""Command line of the pipeline: `python -m segmentation_pipeline <command> …` (one subparser per command)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from segmentation_pipeline.warehouse.run_lock import WarehouseBusyError

if TYPE_CHECKING:
    from segmentation_pipeline.settings import Settings

DATA_DIR_ENV = "SEGMENTATION_DATA_DIR"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _generate(args: argparse.Namespace) -> int:
    # Imported here so other commands do not pay for numpy/polars start-up they do not need.
    from segmentation_pipeline.synth import generate_landing_zone
    from segmentation_pipeline.synth.archetypes import DEFAULT
    from segmentation_pipeline.synth.random_world import draw_archetypes

    if args.export:
        from segmentation_pipeline.synth.real_like import generate_online_shop_export

        print(generate_online_shop_export(
            args.out, args.customers, args.seed, args.end, days=args.days or 365, overwrite=args.overwrite
        ).describe())  # fmt: skip
        return 0
    if args.world == "random":
        archetypes = draw_archetypes(6 if args.archetypes is None else args.archetypes, args.seed)
    elif args.archetypes is not None:
        raise ValueError("--archetypes needs --world random (the sample world has its own nine)")
    else:
        archetypes = DEFAULT
    summary = generate_landing_zone(
        out_dir=args.out,
        customers=args.customers,
        days=args.days or 730,
        seed=args.seed,
        end_date=args.end,
        faults=args.faults,
        overwrite=args.overwrite,
        archetypes=archetypes,
    )
    print(summary.describe())
    if args.world == "random":
        shares = zip(archetypes.names, archetypes.shares, strict=True)
        print(f"  archetypes: {', '.join(f'{name} {share:.1%}' for name, share in shares)}")
    return 0


class NoWarehouseError(Exception):
    """A command that works on the warehouse, run where no run has made one yet."""


def _settings_of_existing_warehouse() -> Settings:
    """The environment's settings, when their warehouse exists (else NoWarehouseError)."""
    from segmentation_pipeline.settings import Settings
    from segmentation_pipeline.warehouse.session import warehouse_exists

    settings = Settings.from_env()
    if not warehouse_exists(settings):
        raise NoWarehouseError(f"no warehouse at {settings.warehouse_path}")
    return settings


def _generate_arguments(p: argparse.ArgumentParser) -> None:
    from segmentation_pipeline.synth.generate import DEFAULT_END

    p.add_argument("--customers", type=_positive, default=5000, help="number of customers (default 5000)")
    p.add_argument("--days", type=_positive, help="days of daily files (default 730; 365 with --export)")
    p.add_argument("--seed", type=int, default=42, help="random seed; same arguments give the same bytes")
    p.add_argument(
        "--out",
        type=Path,
        default=Path(os.environ.get(DATA_DIR_ENV, "data")),
        help=f"output directory (default ${DATA_DIR_ENV} or ./data)",
    )
    p.add_argument(
        "--end", type=_date, default=DEFAULT_END, help=f"last landing date (default {DEFAULT_END})"
    )
    p.add_argument(
        "--faults", action="store_true", help="inject every kind of bad input the contract forbids"
    )
    p.add_argument(
        "--export",
        choices=["online-shop"],
        help="instead of the sample: an export like a real shop's (orders, cost-less products, GBP, guests, "
        "cancellation invoices, postage lines; one year); what was planted goes to OUT/truth/",
    )
    p.add_argument("--overwrite", action="store_true", help="replace earlier generated output in OUT")
    p.add_argument(
        "--world",
        choices=["sample", "random"],
        default="sample",
        help="sample: the project's nine archetypes (default); random: --archetypes K drawn from --seed",
    )
    p.add_argument(
        "--archetypes",
        type=int,
        default=None,
        metavar="K",
        help="buying archetypes of a random world, 3 to 12 (default 6), plus a prospect one",
    )


def _run(args: argparse.Namespace) -> int:
    from segmentation_pipeline.defs.runner import run_pipeline

    return 0 if run_pipeline(verbose=args.verbose) else 1


def _run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--verbose", action="store_true", help="print Dagster's full event log instead of one line per step"
    )


def _erase(args: argparse.Namespace) -> int:
    import dataclasses
    import uuid

    from segmentation_pipeline.defs.runner import run_pipeline
    from segmentation_pipeline.publication.erasure import erase_and_republish
    from segmentation_pipeline.publication.snapshot import prune_all_but_current, published_as_of
    from segmentation_pipeline.warehouse.session import held_warehouse

    settings = _settings_of_existing_warehouse()
    ids = list(dict.fromkeys(i.strip() for i in args.customer_ids))
    with held_warehouse(settings, args.wait, owner="erase") as conn:
        removed, unknown, stale = erase_and_republish(
            conn, settings.data_dir, ids, f"erase-{uuid.uuid4().hex[:8]}"
        )
    erased = [i for i in ids if i not in unknown]
    if erased:
        print(f"erased {len(erased)} customer(s): {', '.join(erased)}")
    for table, count in sorted(removed.items()):
        print(f"  {table}: {count:,} row(s) removed")
    for path in stale:
        print(f"  {path}: removed (a stale or dated copy of the marts)")
    if erased:
        print(
            "They are recorded in ops.erased_customers: their rows in later landing files are rejected unread."
        )
        as_of = published_as_of(settings.data_dir)
        if as_of is not None:
            # Segments, RFM shares and migrations still count them: recompute and republish for the
            # published date (the rows are gone already; this makes the aggregates agree).
            print(f"Recomputing the marts for {as_of} without them:")
            if run_pipeline(dataclasses.replace(settings, as_of=as_of.isoformat())):
                prune_all_but_current(settings.data_dir)
            else:
                print("warning: the recomputation failed; the published rows are erased but aggregates still "
                      "count them until the next successful run", file=sys.stderr)  # fmt: skip
    if unknown:
        print(
            f"error: unknown customer id(s), found nowhere, not recorded: {', '.join(unknown)}",
            file=sys.stderr,
        )
        return 1
    return 0


def _erase_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("customer_ids", nargs="+", metavar="CUSTOMER_ID")


def _accept(args: argparse.Namespace) -> int:
    import getpass

    from segmentation_pipeline.contracts import source_contract
    from segmentation_pipeline.staging.gate import accept
    from segmentation_pipeline.warehouse.session import held_warehouse

    source_contract(args.source)  # an unknown source is an error that lists the known ones
    settings = _settings_of_existing_warehouse()
    who = args.by or getpass.getuser()
    with held_warehouse(settings, args.wait, owner=f"accept by {who}") as conn:
        try:
            accepted = [accept(conn, args.source, file, who) for file in args.files]
        except LookupError as error:
            print(f"error: {error.args[0]}", file=sys.stderr)
            return 1
    for file in accepted:
        print(f"accepted {file} for {args.source} (by {who}): the next run's gate no longer holds on it;")
    print("its rejected rows stay in quarantine and are still counted in marts.data_quality.")
    return 0


def _accept_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="SOURCE")
    p.add_argument(
        "files", nargs="+", metavar="FILE", help="path under raw/ (orders/orders_2026-07-01.csv) or bare name"
    )
    p.add_argument("--by", default="", help="who accepts (default: the user name)")


class Command(NamedTuple):
    """A subcommand: `main` hands its parsed arguments to `handler`."""

    handler: Callable[[argparse.Namespace], int]
    arguments: Callable[[argparse.ArgumentParser], None]
    help: str
    description: str
    holds_warehouse: bool = False  # takes the warehouse as a run does: waits for a running one (--wait)


COMMANDS = {
    "generate": Command(
        _generate, _generate_arguments, "write a sample landing zone (raw files + ground truth)",
        "Generate sample landing files under OUT/raw, the true archetypes under OUT/truth and, with "
        "--faults, bad input listed in OUT/truth/faults.jsonl.",
    ),
    "run": Command(
        _run, _run_arguments, "materialise every asset once (what `make run` does)",
        "One in-process run of the daily job over $SEGMENTATION_DATA_DIR; on a brand-new data dir (no raw "
        "file, no warehouse) the sample data set is generated there first. Settings come from SEGMENTATION_* "
        "variables (README).",
    ),
    "erase": Command(
        _erase, _erase_arguments, "remove customers everywhere (right to be forgotten) and republish the marts",
        "Delete every row of the given customers from staging, quarantine, features, models, history and "
        "marts, republish the BI snapshot and Parquet files, and block them from future loads.",
        holds_warehouse=True,
    ),
    "accept": Command(
        _accept, _accept_arguments, "accept a file the quality gate holds, so that the next run proceeds",
        "A file that failed its source's rejected-share check (or was unreadable, or re-landed empty) keeps "
        "the check failing on every run until it is re-landed or accepted here. The acceptance is recorded "
        "with the time and who (ops.gate_holds, marts.data_quality).",
        holds_warehouse=True,
    ),
}  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segmentation_pipeline", description="Customer-segmentation pipeline tools."
    )
    waits = argparse.ArgumentParser(add_help=False)
    waits.add_argument(
        "--wait", type=float, default=60.0, help="seconds to wait for a running pipeline (default 60)"
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        p = subparsers.add_parser(
            name,
            help=command.help,
            description=command.description,
            parents=[waits] if command.holds_warehouse else [],
        )
        command.arguments(p)
        p.set_defaults(handler=command.handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (FileExistsError, ValueError, KeyError, NoWarehouseError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except WarehouseBusyError as error:  # a run (or another command) holds the warehouse
        print(f"error: {error}", file=sys.stderr)
        return 1
