"""python -m micrograd.exercises start DIR | check FILE [--exercise N] [--json]"""
import argparse
import json
import sys

from micrograd.exercises.runner import TIMEOUT, report, run_checks
from micrograd.exercises.starter import write_starters


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m micrograd.exercises')
    commands = parser.add_subparsers(dest='command', required=True)
    start = commands.add_parser('start', help='write exercises.ipynb and exercises.py into DIR')
    start.add_argument('dir')
    start.add_argument('--force', action='store_true', help='overwrite existing files')
    run = commands.add_parser('check', help="run the checks on a learner's .py or .ipynb")
    run.add_argument('file')
    run.add_argument('--exercise', type=int)
    run.add_argument('--json', action='store_true', help='one result per exercise, for grading')
    run.add_argument('--explain', metavar='DIR', help="write the explorer's pages of a wrong gradient's graphs here")
    run.add_argument('--timeout', type=float, default=TIMEOUT, help='seconds per check')
    args = parser.parse_args(argv)
    if args.command == 'start':
        try:
            for path in write_starters(args.dir, force=args.force):
                print(f"wrote {path}")
        except FileExistsError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        return 0
    import pathlib
    if not pathlib.Path(args.file).is_file():
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return 2
    try:
        results = run_checks(path=args.file, exercise=args.exercise, timeout=args.timeout, explain=args.explain)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        report(results)
    return 0 if all(r['status'] == 'pass' for r in results) else 1


if __name__ == '__main__':
    sys.exit(main())
