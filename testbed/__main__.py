"""python -m testbed up|down|status|reset|logs"""

from __future__ import annotations

import argparse
import sys

from testbed import core
from testbed.layout import TestbedError


def _print_status() -> int:
    rows = core.status()
    memory = core.memory_mib()
    print(f"{'cloud':<14} {'service':<18} {'pid':>8}  {'state':<9} {'RSS MiB':>8}  url")
    for cloud, service, pid, state, url in rows:
        rss = memory.get(f"{cloud}-{service}", 0.0)
        print(f"{cloud:<14} {service:<18} {pid or '-':>8}  {state:<9} {rss:>8.0f}  {url}")
    for cloud in sorted({r[0] for r in rows}):
        total = sum(v for k, v in memory.items() if k.startswith(f"{cloud}-"))
        print(f"{cloud:<14} {'TOTAL':<18} {'':>8}  {'':<9} {total:>8.0f}")
    print(f"clouds.yaml: {core.clouds_yaml_path()}")
    return 0 if all(r[3] == "up" for r in rows) else 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m testbed", description="Souverain's OpenStack test-bed")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="install, bootstrap and start both clouds; print the clouds.yaml path")
    up.add_argument("--no-wait", action="store_true", help="do not wait for the APIs (once bootstrapped)")
    up.add_argument("--nutanix", type=int, nargs="?", const=20, metavar="VMS",
                    help="instead, run the Prism Central simulator (testbed/nutanix) in the foreground on :9440")
    sub.add_parser("down", help="stop every process the test-bed started")
    sub.add_parser("status", help="each service per cloud (exit 3 unless all are up)")
    sub.add_parser("reset", help="down, wipe the data, up")
    logs = sub.add_parser("logs", help="tail of every log")
    logs.add_argument("-n", "--lines", type=int, default=40)
    args = parser.parse_args(argv)
    try:
        if args.command == "up" and args.nutanix is not None:
            from testbed.nutanix.simulator import main as nutanix_main

            nutanix_main(["--vms", str(args.nutanix)])
        elif args.command == "up":
            print(core.up(wait=not args.no_wait))
        elif args.command == "down":
            core.down()
        elif args.command == "status":
            return _print_status()
        elif args.command == "reset":
            print(core.reset())
        elif args.command == "logs":
            core.logs(args.lines)
    except TestbedError as exc:
        print(f"testbed: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `python -m testbed logs | head`
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
