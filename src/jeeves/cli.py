"""`jeeves`: the operator's command line for what lives in etcd (flags, actions, raw config).

    jeeves flags list | get NAME | set NAME [--on|--off] [--percent P] [--allow ID ...]
                      | rollout NAME PERCENT | delete NAME
    jeeves actions list | get NAME | put NAME (--json JSON | --file PATH) | delete NAME
    jeeves config get KEY [--prefix] | put KEY VALUE | delete KEY | watch [KEY] [--count N]

Global options (before or after the command): `--env` (default `$JEEVES_ENV` or `dev`),
`--etcd` (default `$JEEVES_ETCD_ENDPOINTS` or `127.0.0.1:2379`), `-o json|table`.
Config keys are relative to `/jeeves/<env>/` unless they start with `/`.

Exit status, for scripts: 0 ok; 1 not found; 2 usage error; 3 etcd unreachable;
4 malformed value (given on the command line, or found stored in etcd); 5 the value kept
changing under a read-modify-write (`flags set`/`rollout`): try again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import grpc.aio  # type: ignore[import-untyped]  # no stubs; etcd3aio depends on grpcio
from etcd3aio import Etcd3Client, EtcdError, prefix_range_end

from jeeves.kit.actions import ActionSpec
from jeeves.kit.etcd import (
    ACTIONS,
    FLAGS,
    ConflictError,
    action_key,
    delete_key,
    env_prefix,
    flag_key,
    make_client,
    read_key,
    read_prefix,
    update_key,
    write_key,
)
from jeeves.kit.flags import FlagSpec

OK, NOT_FOUND, USAGE, UNREACHABLE, MALFORMED, CONFLICT = 0, 1, 2, 3, 4, 5
DEFAULT_ETCD = "127.0.0.1:2379"
TIMEOUT_S = 3.0


class CliError(Exception):
    """A failure reported as one line on stderr with an exit status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Context:
    """What every command needs: where etcd is, which env, how to print."""

    etcd: str
    env: str
    output: str
    out: TextIO

    @property
    def prefix(self) -> str:
        return env_prefix(self.env)

    def key(self, relative: str) -> str:
        return relative if relative.startswith("/") else self.prefix + relative


# -- output -------------------------------------------------------------------------------
def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns separated by two spaces; headers upper-cased."""
    cells = [[str(h).upper() for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def emit(ctx: Context, data: Any, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    if ctx.output == "json":
        print(json.dumps(data, indent=2, sort_keys=True), file=ctx.out)
    else:
        print(render_table(headers, rows), file=ctx.out)


# -- pure helpers -----------------------------------------------------------------------------
def malformed(kind: str, name: str, exc: Exception) -> str:
    """One line naming the value and what is wrong with it."""
    message = str(exc)
    if message.startswith(f"{kind} {name}:"):
        return f"malformed {message}"
    return f"malformed {kind} {name}: {type(exc).__name__}: {message}"


def parse_flag_value(name: str, raw: bytes | str) -> FlagSpec:
    try:
        return FlagSpec.from_json(name, raw)
    except (ValueError, TypeError) as exc:
        raise CliError(MALFORMED, malformed("flag", name, exc)) from None


def parse_action_value(name: str, raw: bytes | str) -> ActionSpec:
    try:
        return ActionSpec.from_json(name, raw)
    except (ValueError, TypeError) as exc:
        raise CliError(MALFORMED, malformed("action", name, exc)) from None


def updated_flag(current: FlagSpec | None, args: argparse.Namespace) -> FlagSpec:
    """`flags set`: the stored flag (or a new, disabled one) with the given fields changed."""
    spec = current or FlagSpec(enabled=False)
    if args.enabled is not None:
        spec = replace(spec, enabled=args.enabled)
    if args.percent is not None:
        if not 0 <= args.percent <= 100:
            raise CliError(MALFORMED, "percent must be between 0 and 100")
        spec = replace(spec, percent=args.percent)
    if args.allow is not None:
        spec = replace(spec, allow=frozenset(u for u in args.allow if u))
    return spec


def validate_config_value(relative: str, value: str) -> None:
    """Refuse to store a malformed action or flag through `config put`."""
    if relative.startswith(ACTIONS):
        parse_action_value(relative[len(ACTIONS) :], value)
    elif relative.startswith(FLAGS):
        parse_flag_value(relative[len(FLAGS) :], value)


def flag_row(name: str, raw: bytes) -> tuple[dict[str, Any], list[object]]:
    try:
        spec = FlagSpec.from_json(name, raw)
    except (ValueError, TypeError) as exc:
        return {"name": name, "error": str(exc)}, [name, "INVALID", "", str(exc)]
    allow = ",".join(sorted(spec.allow)) or "-"
    data = {"name": name, **spec.to_dict()}
    return data, [name, "on" if spec.enabled else "off", data["percent"], allow]


def action_row(name: str, raw: bytes) -> tuple[dict[str, Any], list[object]]:
    try:
        spec = ActionSpec.from_json(name, raw)
    except (ValueError, TypeError) as exc:
        return {"name": name, "error": str(exc)}, [name, "INVALID", str(exc), "", ""]
    canary = f"{spec.canary.percent:g}% {spec.canary.url}" if spec.canary else "-"
    data = {"name": name, **json.loads(spec.to_json())}
    enabled = "yes" if spec.enabled else "no"
    return data, [name, ",".join(spec.keywords), spec.url, enabled, canary]


# -- commands ---------------------------------------------------------------------------------
async def flags_list(client: Etcd3Client, ctx: Context, _args: argparse.Namespace) -> int:
    snapshot = await read_prefix(client, ctx.prefix + FLAGS)
    rows = [flag_row(name, raw) for name, raw in sorted(snapshot.values.items())]
    emit(ctx, [d for d, _ in rows], ["flag", "enabled", "percent", "allow"], [r for _, r in rows])
    return OK


async def flags_get(client: Etcd3Client, ctx: Context, args: argparse.Namespace) -> int:
    raw = await read_key(client, flag_key(ctx.env, args.name))
    if raw is None:
        raise CliError(NOT_FOUND, f"flag {args.name} is not set in env {ctx.env}")
    spec = parse_flag_value(args.name, raw)
    data, row = flag_row(args.name, spec.to_json().encode())
    emit(ctx, data, ["flag", "enabled", "percent", "allow"], [row])
    return OK


async def flags_set(client: Etcd3Client, ctx: Context, args: argparse.Namespace) -> int:
    key = flag_key(ctx.env, args.name)
    if args.json is not None:
        spec = parse_flag_value(args.name, args.json)
        await write_key(client, key, spec.to_json())
    else:
        spec = await update_flag(client, key, args.name, lambda cur: updated_flag(cur, args))
    emit(
        ctx, {"name": args.name, **spec.to_dict()}, ["flag", "value"], [[args.name, spec.to_json()]]
    )
    return OK


async def flags_rollout(client: Etcd3Client, ctx: Context, args: argparse.Namespace) -> int:
    if not 0 <= args.percent <= 100:
        raise CliError(MALFORMED, "percent must be between 0 and 100")
    key = flag_key(ctx.env, args.name)

    def change(current: FlagSpec | None) -> FlagSpec:
        return replace(current or FlagSpec(enabled=True), enabled=True, percent=args.percent)

    spec = await update_flag(client, key, args.name, change)
    emit(
        ctx, {"name": args.name, **spec.to_dict()}, ["flag", "value"], [[args.name, spec.to_json()]]
    )
    return OK


async def update_flag(
    client: Etcd3Client, key: str, name: str, change: Callable[[FlagSpec | None], FlagSpec]
) -> FlagSpec:
    """Change one flag with a version-guarded read-modify-write (no lost concurrent edits)."""

    def apply(raw: bytes | None) -> str:
        return change(parse_flag_value(name, raw) if raw is not None else None).to_json()

    try:
        written = await update_key(client, key, apply)
    except ConflictError as exc:
        raise CliError(CONFLICT, str(exc)) from None
    return parse_flag_value(name, written)


async def flags_delete(client: Etcd3Client, ctx: Context, args: argparse.Namespace) -> int:
    if not await delete_key(client, flag_key(ctx.env, args.name)):
        raise CliError(NOT_FOUND, f"flag {args.name} is not set in env {ctx.env}")
    emit(ctx, {"deleted": args.name}, ["deleted"], [[args.name]])
    return OK


async def actions_list(client: Etcd3Client, ctx: Context, _args: argparse.Namespace) -> int:
    snapshot = await read_prefix(client, ctx.prefix + ACTIONS)
    rows = [action_row(name, raw) for name, raw in sorted(snapshot.values.items())]
    headers = ["action", "keywords", "url", "enabled", "canary"]
    emit(ctx, [d for d, _ in rows], headers, [r for _, r in rows])
    return OK


async def actions_get(client: Etcd3Client, ctx: Context, args: argparse.Namespace) -> int:
    raw = await read_key(client, action_key(ctx.env, args.name))
    if raw is None:
        raise CliError(NOT_FOUND, f"action {args.name} is not registered in env {ctx.env}")
    spec = parse_action_value(args.name, raw)
    data, row = action_row(args.name, spec.to_json().encode())
    emit(ctx, data, ["action", "keywords", "url", "enabled", "canary"], [row])
    return OK


async def actions_put(client: Etcd3Client, ctx: Context, args: argparse.Namespace) -> int:
    if args.file is not None:
        try:
            raw = await asyncio.to_thread(Path(args.file).read_text)
        except OSError as exc:
            raise CliError(USAGE, f"cannot read {args.file}: {exc.strerror}") from None
    else:
        raw = args.json
    spec = parse_action_value(args.name, raw)
    revision = await write_key(client, action_key(ctx.env, args.name), spec.to_json())
    emit(
        ctx, {"put": args.name, "revision": revision}, ["put", "revision"], [[args.name, revision]]
    )
    return OK


async def actions_delete(client: Etcd3Client, ctx: Context, args: argparse.Namespace) -> int:
    if not await delete_key(client, action_key(ctx.env, args.name)):
        raise CliError(NOT_FOUND, f"action {args.name} is not registered in env {ctx.env}")
    emit(ctx, {"deleted": args.name}, ["deleted"], [[args.name]])
    return OK


async def config_get(client: Etcd3Client, ctx: Context, args: argparse.Namespace) -> int:
    key = ctx.key(args.key)
    if args.prefix:
        snapshot = await read_prefix(client, key)
        items = {key + k: v.decode(errors="replace") for k, v in sorted(snapshot.values.items())}
        emit(ctx, items, ["key", "value"], list(items.items()))
        return OK
    raw = await read_key(client, key)
    if raw is None:
        raise CliError(NOT_FOUND, f"{key} is not set")
    value = raw.decode(errors="replace")
    if ctx.output == "json":
        emit(ctx, {"key": key, "value": value}, [], [])
    else:
        print(value, file=ctx.out)
    return OK


async def config_put(client: Etcd3Client, ctx: Context, args: argparse.Namespace) -> int:
    key = ctx.key(args.key)
    if key.startswith(ctx.prefix):
        validate_config_value(key[len(ctx.prefix) :], args.value)
    revision = await write_key(client, key, args.value)
    emit(ctx, {"put": key, "revision": revision}, ["put", "revision"], [[key, revision]])
    return OK


async def config_delete(client: Etcd3Client, ctx: Context, args: argparse.Namespace) -> int:
    key = ctx.key(args.key)
    if not await delete_key(client, key):
        raise CliError(NOT_FOUND, f"{key} is not set")
    emit(ctx, {"deleted": key}, ["deleted"], [[key]])
    return OK


async def config_watch(client: Etcd3Client, ctx: Context, args: argparse.Namespace) -> int:
    """Print each change under KEY (default: the whole env) until Ctrl-C or --count events."""
    assert client.watch is not None
    prefix = ctx.key(args.key)
    start = (await read_prefix(client, prefix, timeout_s=TIMEOUT_S)).revision + 1
    print(f"watching {prefix} from revision {start}", file=sys.stderr, flush=True)
    seen = 0
    stream = client.watch.watch(prefix, prefix_range_end(prefix), start_revision=start)
    async for response in stream:
        for event in response.events:
            key, value = event.kv.key.decode(), event.kv.value.decode(errors="replace")
            kind = "DELETE" if event.type == 1 else "PUT"
            if ctx.output == "json":
                line = json.dumps(
                    {"type": kind, "key": key, "value": value if kind == "PUT" else None}
                )
            else:
                line = f"{kind} {key}" + (f" {value}" if kind == "PUT" else "")
            print(line, file=ctx.out, flush=True)
            seen += 1
            if args.count and seen >= args.count:
                return OK
    return OK


Command = Callable[[Etcd3Client, Context, argparse.Namespace], Coroutine[Any, Any, int]]


# -- argument parsing -----------------------------------------------------------------------
def _common(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Global options, accepted before the command (`top`) and after it."""

    def default(value: str) -> str | None:
        return value if top else argparse.SUPPRESS

    parser.add_argument(
        "--env",
        default=default(os.environ.get("JEEVES_ENV", "dev")),
        help="deployment environment: the etcd prefix /jeeves/<env>/ (default $JEEVES_ENV or dev)",
    )
    parser.add_argument(
        "--etcd",
        default=default(os.environ.get("JEEVES_ETCD_ENDPOINTS", DEFAULT_ETCD)),
        help=f"etcd endpoints host:port[,…] (default $JEEVES_ETCD_ENDPOINTS or {DEFAULT_ETCD})",
    )
    parser.add_argument(
        "-o",
        "--output",
        choices=["table", "json"],
        default=default("table"),
        help="output format (default table)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jeeves",
        description="Manage Jeeves feature flags, actions and configuration in etcd.",
        epilog="exit status: 0 ok, 1 not found, 2 usage, 3 etcd unreachable, 4 malformed value, "
        "5 concurrent update conflict",
    )
    _common(parser, top=True)
    groups = parser.add_subparsers(dest="group", required=True, metavar="{flags,actions,config}")
    common = argparse.ArgumentParser(add_help=False)
    _common(common, top=False)

    def command(group: Any, name: str, handler: Command, text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, parents=[common], help=text)
        sub.set_defaults(handler=handler)
        return sub

    flags = groups.add_parser("flags", help="feature flags").add_subparsers(
        dest="command", required=True
    )
    command(flags, "list", flags_list, "every flag of the env")
    command(flags, "get", flags_get, "one flag").add_argument("name")
    flag_set = command(flags, "set", flags_set, "create or change a flag (unset fields kept)")
    flag_set.add_argument("name")
    switch = flag_set.add_mutually_exclusive_group()
    switch.add_argument(
        "--on", dest="enabled", action="store_const", const=True, default=None, help="enable"
    )
    switch.add_argument(
        "--off", dest="enabled", action="store_const", const=False, help="disable for everyone"
    )
    flag_set.add_argument("--percent", type=float, help="rollout percentage 0-100")
    flag_set.add_argument("--allow", nargs="*", metavar="SLACK_ID", help="replace the allow-list")
    flag_set.add_argument("--json", help="the whole value, e.g. '{\"enabled\": true}'")
    rollout = command(flags, "rollout", flags_rollout, "turn a flag on for PERCENT of users")
    rollout.add_argument("name")
    rollout.add_argument("percent", type=float)
    command(flags, "delete", flags_delete, "remove a flag").add_argument("name")

    actions = groups.add_parser("actions", help="the action registry").add_subparsers(
        dest="command", required=True
    )
    command(actions, "list", actions_list, "every registered action")
    command(actions, "get", actions_get, "one action").add_argument("name")
    put = command(actions, "put", actions_put, "register or replace an action (validated)")
    put.add_argument("name")
    source = put.add_mutually_exclusive_group(required=True)
    source.add_argument("--json", help="the action spec as JSON")
    source.add_argument("--file", help="a file holding the action spec as JSON")
    command(actions, "delete", actions_delete, "unregister an action").add_argument("name")

    config = groups.add_parser("config", help="raw keys under /jeeves/<env>/").add_subparsers(
        dest="command", required=True
    )
    get = command(config, "get", config_get, "print a key's value")
    get.add_argument("key")
    get.add_argument("--prefix", action="store_true", help="every key under KEY")
    config_put_parser = command(config, "put", config_put, "set a key (actions/flags validated)")
    config_put_parser.add_argument("key")
    config_put_parser.add_argument("value")
    command(config, "delete", config_delete, "remove a key").add_argument("key")
    watch = command(config, "watch", config_watch, "print changes as they happen")
    watch.add_argument("key", nargs="?", default="", help="prefix to watch (default: the env)")
    watch.add_argument("--count", type=int, default=0, help="stop after N changes")
    return parser


# -- running ----------------------------------------------------------------------------------
async def execute(args: argparse.Namespace, out: TextIO) -> int:
    ctx = Context(etcd=args.etcd, env=args.env, output=args.output, out=out)
    client = make_client(args.etcd, attempts=2)
    await client.connect()
    try:
        handler: Command = args.handler
        return await handler(client, ctx, args)
    except (EtcdError, TimeoutError) as exc:
        detail = str(exc).split(" (")[0] or type(exc).__name__
        raise CliError(UNREACHABLE, f"etcd at {args.etcd} is unreachable: {detail}") from None
    except grpc.aio.AioRpcError as exc:  # something answered, but not an etcd
        detail = f"{exc.code().name}: {exc.details()}"
        raise CliError(
            UNREACHABLE, f"etcd at {args.etcd} did not answer as etcd: {detail}"
        ) from None
    finally:
        with contextlib.suppress(Exception):
            await client.close()


def run(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Parse `argv`, run the command, return the exit status (errors: one line on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        env_prefix(args.env)
        return asyncio.run(execute(args, out or sys.stdout))
    except CliError as exc:
        print(f"jeeves: {exc}", file=sys.stderr)
        return exc.status
    except ValueError as exc:  # bad --etcd or --env
        print(f"jeeves: {exc}", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        return OK


def main() -> None:
    raise SystemExit(run())
