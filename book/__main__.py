"""Command line of the book tooling: ``python -m book {split,execute,merge,check}``."""

from __future__ import annotations

import argparse
import sys

import nbformat

from d2l_bn import BACKEND_MODULES, FRAMEWORKS

from . import ROOT, single_file
from . import __doc__ as DOC
from .execute import execute, smoke_path
from .files import exits_on_book_error
from .notebooks import (
    merge,
    merged_path,
    out_of_sync,
    page_out_of_sync,
    sources,
    target,
    write_split,
)


@exits_on_book_error  # a missing or malformed file: one line saying what to do, status 1
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book", description=DOC,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    commands = [sub.add_parser("split", help="write the per-framework notebooks"),
                sub.add_parser("merge", help="assemble the site page(s) from source + "
                                             "executed notebooks"),
                sub.add_parser("check", help="exit 1 if a generated notebook or page is "
                                             "out of sync")]
    run = sub.add_parser("execute", help="full run of per-framework notebooks")
    run.add_argument("frameworks", nargs="*", metavar="FRAMEWORK",
                     help=f"any of {', '.join(FRAMEWORKS)} (default: all)")
    for command in [*commands, run]:
        command.add_argument("--source", help="only this source (stem, e.g. batch_norm)")
    run.add_argument("--smoke", action="store_true",
                     help="tiny runs (D2L_BN_SMOKE=1), written under _build/smoke/")
    run.add_argument("--threads", type=int, help="compute threads of the kernel (default: "
                                                 "one per core)")
    run.add_argument("--force", action="store_true",
                     help="start a full run even on a busy machine (the record says so)")
    args = parser.parse_args(argv)

    unknown = set(getattr(args, "frameworks", [])) - set(FRAMEWORKS)
    if unknown:
        parser.error(f"unknown framework(s) {sorted(unknown)}; choose from {FRAMEWORKS}")
    chosen = [s for s in sources() if args.source in (None, s.stem)]
    if not chosen:
        parser.error(f"no source chapters/{args.source}.md with %%tab cells; choose from "
                     f"{', '.join(s.stem for s in sources())}")
    if args.command == "split":
        for source in chosen:
            for fw in FRAMEWORKS:
                print(f"wrote {write_split(source, fw).relative_to(ROOT)}")
        for path in single_file.write_all(only=args.source):  # and their single-file editions
            print(f"wrote {path.relative_to(ROOT)}")
    elif args.command == "merge":
        for source in chosen:
            nbformat.write(merge(source), merged_path(source))
            print(f"wrote {merged_path(source).relative_to(ROOT)}")
    elif args.command == "check":
        problems = [p for s in chosen for fw in FRAMEWORKS if (p := out_of_sync(s, fw))]
        problems += [p for s in chosen if not problems and (p := page_out_of_sync(s))]
        problems += [] if problems else single_file.out_of_sync(args.source)
        print("\n".join(problems) or "all per-framework notebooks are in sync")
        return 1 if problems else 0
    else:
        for source in chosen:
            for fw in args.frameworks or FRAMEWORKS:
                path = target(source, fw)
                print(f"running {path.relative_to(ROOT)} ({BACKEND_MODULES[fw]}) ...", flush=True)
                seconds = execute(path, smoke=args.smoke, threads=args.threads, force=args.force)
                where = smoke_path(path) if args.smoke else path
                print(f"  done in {seconds:.0f} s: {where.relative_to(ROOT)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
