"""`python -m kubenode up | down | status | images | agent` (PYTHONPATH=scripts/k8s).

`up` starts a node and returns, leaving it running (detached) until `down`; both print what
they do with timings. `images` builds the node's own images (pause, busybox) into the cache.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kubenode import agent, node, oci


def _images(_: argparse.Namespace) -> int:
    out = node.cache_dir() / "images"
    for archive in (oci.build_pause(node.source_tree(), out), oci.build_busybox(out)):
        print(f"{archive} ({archive.stat().st_size / 2**10:.0f} KiB)")
    return 0


def _up(args: argparse.Namespace) -> int:
    started = node.up(args.run_dir, images=args.image)
    print(f"export KUBECONFIG={started.kubeconfig}")
    return 0


def _down(args: argparse.Namespace) -> int:
    if not (args.run_dir / "node.json").exists():
        print(f"no node in {args.run_dir}: nothing to do")
        return 0
    node.down(args.run_dir)
    return 0


def _status(args: argparse.Namespace) -> int:
    state = node.NodeState.load(args.run_dir)
    print(json.dumps({"state": state.__dict__, "leftovers": node.leftovers(state)}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubenode", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run_dir = {"type": Path, "default": node.default_run_dir(), "help": "the node's run dir"}
    up = commands.add_parser("up", help="start a node and leave it running")
    up.add_argument("--run-dir", **run_dir)  # type: ignore[arg-type]
    up.add_argument("--image", type=Path, action="append", default=[],
                    help="an OCI/docker archive to import (repeatable)")  # fmt: skip
    up.set_defaults(func=_up)
    down = commands.add_parser("down", help="tear the node down, check nothing is left")
    down.add_argument("--run-dir", **run_dir)  # type: ignore[arg-type]
    down.set_defaults(func=_down)
    status = commands.add_parser("status", help="the node's state and what it holds on the host")
    status.add_argument("--run-dir", **run_dir)  # type: ignore[arg-type]
    status.set_defaults(func=_status)
    images = commands.add_parser("images", help="build the pause and busybox images")
    images.set_defaults(func=_images)
    commands.add_parser("agent", help="(internal) the node agent loop", add_help=False)
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["agent"]:
        agent.main(argv[1:])
        return 0
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except node.NodeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
