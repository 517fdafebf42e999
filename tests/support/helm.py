"""Helm without a helm binary: helm-python-sdk (Helm 4's own engine) behind a small typed API.

Owns rendering (`render`, offline, with a chosen Kubernetes version and API versions), linting
(`lint`), values files and `--set` handling (`load_values`), and releases against a real API
server (`Releases`: install, upgrade, uninstall, status). The chart tests, the cluster tests and
the thin `scripts/helm` command (`python -m support.helm`, see `main`) all go through here, so
they run the same engine the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import helm_python
import yaml
from helm_python import _native  # render options the public wrapper lacks (kube/API versions)

REPO = Path(__file__).resolve().parents[2]
CHARTS = REPO / "charts"
NOTES = "NOTES.txt"
HOOK = "helm.sh/hook"

Values = dict[str, Any]
KubeObject = dict[str, Any]


class HelmFailure(RuntimeError):
    """Helm refused: bad values, a failing template, a failed release operation."""


@dataclass(frozen=True)
class Rendering:
    """What a chart renders to: the objects in template order, and its notes."""

    files: Mapping[str, str]
    objects: tuple[KubeObject, ...]
    notes: str

    def of_kind(self, kind: str) -> list[KubeObject]:
        return [o for o in self.objects if o["kind"] == kind]

    def find(self, kind: str, name: str) -> KubeObject:
        for item in self.objects:
            if item["kind"] == kind and item["metadata"]["name"] == name:
                return item
        names = sorted(o["metadata"]["name"] for o in self.of_kind(kind))
        raise KeyError(f"no {kind} {name!r} rendered (there are: {names})")

    def names(self, kind: str) -> list[str]:
        return [o["metadata"]["name"] for o in self.of_kind(kind)]

    @property
    def hooks(self) -> list[KubeObject]:
        return [o for o in self.objects if HOOK in annotations_of(o)]

    @property
    def resources(self) -> list[KubeObject]:
        """The release's own objects (what `helm uninstall` deletes): everything but hooks."""
        return [o for o in self.objects if HOOK not in annotations_of(o)]

    def yaml(self) -> str:
        """The `helm template` output: every object under a `# Source:` line."""
        parts = []
        for source, text in sorted(self.files.items()):
            if source.endswith(NOTES) or not text.strip():
                continue
            parts.append(f"---\n# Source: {source}\n{text.strip()}\n")
        return "".join(parts)


def annotations_of(obj: KubeObject) -> dict[str, str]:
    return dict(obj.get("metadata", {}).get("annotations") or {})


def chart_path(chart: str | Path) -> Path:
    """A chart directory: a path, or a name under charts/ (`jeeves`, `jeeves-operator`)."""
    path = Path(chart)
    return path if path.is_dir() else CHARTS / str(chart)


def render(
    chart: str | Path,
    values: Values | None = None,
    *,
    release: str = "jeeves",
    namespace: str = "jeeves",
    kube_version: str | None = None,
    api_versions: Sequence[str] = (),
    is_upgrade: bool = False,
) -> Rendering:
    """Render offline, as `helm template` would (lookup finds nothing; no cluster contacted).

    `kube_version` (e.g. "1.20.2") and `api_versions` (extra entries of
    .Capabilities.APIVersions, e.g. "policy/v1/PodDisruptionBudget" to play a real API server)
    are what `helm template --kube-version/--api-versions` take.
    """
    options: dict[str, Any] = {"name": release, "namespace": namespace}
    if kube_version:
        options["kube_version"] = kube_version
    if api_versions:
        options["api_versions"] = list(api_versions)
    if is_upgrade:
        options["is_upgrade"] = True
        options["is_install"] = False
    with helm_python.Chart.load(chart_path(chart)) as loaded:
        try:
            loaded.validate_schema(values or {})
            raw = _native.call_string(
                "helm_render", loaded._raw(), json.dumps(values or {}), json.dumps(options)
            )
        except helm_python.HelmError as exc:
            raise HelmFailure(str(exc)) from None
    files: dict[str, str] = json.loads(raw)
    return Rendering(files=files, objects=tuple(_objects(files)), notes=_notes(files))


def _objects(files: Mapping[str, str]) -> Iterator[KubeObject]:
    for source in files:  # Helm's own order (template name order)
        if source.endswith(NOTES):
            continue
        for item in yaml.safe_load_all(files[source]):
            if item:
                yield item


def _notes(files: Mapping[str, str]) -> str:
    return "".join(text for source, text in files.items() if source.endswith(NOTES))


@dataclass(frozen=True)
class LintMessage:
    severity: str  # INFO, WARNING, ERROR
    path: str
    text: str


SEVERITIES = {0: "UNKNOWN", 1: "INFO", 2: "WARNING", 3: "ERROR"}


def lint(
    chart: str | Path,
    values: Values | None = None,
    *,
    strict: bool = True,
    kube_version: str | None = None,
    namespace: str = "jeeves",
) -> list[LintMessage]:
    """`helm lint`: every finding (INFO included); `strict` counts warnings as errors."""
    report = helm_python.lint(
        chart_path(chart),
        values or {},
        strict=strict,
        namespace=namespace,
        kube_version=f"v{kube_version.lstrip('v')}" if kube_version else None,
    )
    messages = [
        LintMessage(SEVERITIES.get(int(m["severity"]), "UNKNOWN"), m["path"], m["error"])
        for m in report.get("messages") or []
    ]
    messages += [LintMessage("ERROR", str(chart), e) for e in report.get("errors") or []]
    return messages


def failures(messages: Sequence[LintMessage], strict: bool = True) -> list[LintMessage]:
    bad = {"ERROR", "WARNING"} if strict else {"ERROR"}
    return [m for m in messages if m.severity in bad]


def merge(base: Values, override: Mapping[str, Any]) -> Values:
    """Helm's values merge: maps merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def load_values(
    files: Sequence[Path] = (), sets: Sequence[str] = (), set_files: Sequence[str] = ()
) -> Values:
    """`-f`, `--set` and `--set-file` in Helm's order: files, then sets, then set-files."""
    values: Values = {}
    for file in files:
        values = merge(values, helm_python.values_from_yaml(Path(file).read_text()))
    for item in sets:
        values = merge(values, helm_python.parse_set_string(item))
    for item in set_files:
        key, sep, path = item.partition("=")
        if not sep:
            raise HelmFailure(f"--set-file needs key=path, got {item!r}")
        content = Path(path).read_text()
        values = merge(values, _with_leaf(helm_python.parse_set_string(f"{key}=x"), content))
    return values


def _with_leaf(tree: Values, leaf: str) -> Values:
    """The single-path tree parse_set_string made for key=x, with `leaf` as its value."""
    (key, value), *_ = tree.items()
    return {key: _with_leaf(value, leaf) if isinstance(value, dict) else leaf}


@dataclass(frozen=True)
class Release:
    """What Helm answers for a release operation."""

    name: str
    namespace: str
    revision: int
    status: str  # deployed, failed, pending-install, ...
    notes: str
    manifest: str

    @classmethod
    def of(cls, summary: Mapping[str, Any]) -> Release:
        return cls(
            name=str(summary.get("name", "")),
            namespace=str(summary.get("namespace", "")),
            revision=int(summary.get("revision") or 0),
            status=str(summary.get("status", "")),
            notes=str(summary.get("notes") or ""),
            manifest=str(summary.get("manifest") or ""),
        )


@dataclass
class Releases:
    """Release operations in one namespace of a real cluster (its kubeconfig)."""

    kubeconfig: Path
    namespace: str
    _config: helm_python.Config | None = field(default=None, init=False, repr=False)

    def __enter__(self) -> Releases:
        self._config = helm_python.Config(kubeconfig_path=self.kubeconfig, namespace=self.namespace)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._config is not None:
            self._config.close()
            self._config = None

    @property
    def config(self) -> helm_python.Config:
        if self._config is None:
            raise RuntimeError("use Releases as a context manager")
        return self._config

    def install(
        self,
        chart: str | Path,
        release: str,
        values: Values | None = None,
        *,
        wait: bool = False,
        timeout_s: int = 300,
        create_namespace: bool = False,
    ) -> Release:
        extra = {"create_namespace": create_namespace}
        return self._deploy("install", chart, release, values, wait, timeout_s, **extra)

    def upgrade(
        self,
        chart: str | Path,
        release: str,
        values: Values | None = None,
        *,
        wait: bool = False,
        timeout_s: int = 300,
    ) -> Release:
        return self._deploy("upgrade", chart, release, values, wait, timeout_s)

    def _deploy(
        self,
        what: str,
        chart: str | Path,
        release: str,
        values: Values | None,
        wait: bool,
        timeout_s: int,
        **extra: Any,
    ) -> Release:
        action = self.config.install if what == "install" else self.config.upgrade
        result = self._call(
            what,
            action,
            str(chart_path(chart)),
            release,
            values or {},
            namespace=self.namespace,
            wait="watcher" if wait else None,
            timeout=timeout_s,
            **extra,
        )
        return Release.of(result)

    def uninstall(self, release: str, *, wait: bool = False, timeout_s: int = 300) -> None:
        self._call(
            "uninstall",
            self.config.uninstall,
            release,
            wait="watcher" if wait else None,
            timeout=timeout_s,
        )

    def status(self, release: str) -> Release:
        return Release.of(self._call("status", self.config.status, release))

    def history(self, release: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("history", self.config.history, release)
        return result

    @staticmethod
    def _call(what: str, action: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return action(*args, **kwargs)
        except helm_python.HelmError as exc:
            raise HelmFailure(f"helm {what}: {exc}") from None


# --- `scripts/helm`: the few helm commands this project needs, same flags as helm's -------


def _parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="helm", description="helm through helm-python-sdk")
    sub = root.add_subparsers(dest="command", required=True)

    def values_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("-f", "--values", action="append", type=Path, default=[])
        p.add_argument("--set", action="append", default=[])
        p.add_argument("--set-file", action="append", default=[])
        p.add_argument("-n", "--namespace", default="default")

    template = sub.add_parser("template", help="render a chart (offline)")
    template.add_argument("release")
    template.add_argument("chart")
    values_flags(template)
    template.add_argument("--kube-version")
    template.add_argument("--api-versions", action="append", default=[])
    template.add_argument("--is-upgrade", action="store_true")
    template.add_argument("--notes", action="store_true", help="print NOTES.txt too")

    check = sub.add_parser("lint", help="lint charts")
    check.add_argument("charts", nargs="+")
    values_flags(check)
    check.add_argument("--strict", action="store_true")
    check.add_argument("--kube-version")

    for name in ("install", "upgrade"):
        op = sub.add_parser(name, help=f"{name} a release")
        op.add_argument("release")
        op.add_argument("chart")
        values_flags(op)
        op.add_argument("--kubeconfig", type=Path, required=True)
        op.add_argument("--wait", action="store_true")
        op.add_argument("--timeout", type=int, default=300, help="seconds")
        if name == "install":
            op.add_argument("--create-namespace", action="store_true")

    for name in ("uninstall", "status"):
        op = sub.add_parser(name, help=f"{name} a release")
        op.add_argument("release")
        op.add_argument("-n", "--namespace", default="default")
        op.add_argument("--kubeconfig", type=Path, required=True)
        if name == "uninstall":
            op.add_argument("--wait", action="store_true")
            op.add_argument("--timeout", type=int, default=300, help="seconds")
    return root


def _run(args: argparse.Namespace) -> int:
    if args.command == "lint":
        bad = 0
        values = load_values(args.values, args.set, args.set_file)
        for chart in args.charts:
            found = lint(chart, values, strict=args.strict, kube_version=args.kube_version)
            for m in found:
                print(f"[{m.severity}] {m.path}: {m.text}")
            bad += len(failures(found, args.strict))
            print(f"==> linted {chart}: {len(failures(found, args.strict))} failure(s)")
        return 1 if bad else 0
    if args.command == "template":
        values = load_values(args.values, args.set, args.set_file)
        rendered = render(
            args.chart,
            values,
            release=args.release,
            namespace=args.namespace,
            kube_version=args.kube_version,
            api_versions=args.api_versions,
            is_upgrade=args.is_upgrade,
        )
        sys.stdout.write(rendered.yaml())
        if args.notes:
            sys.stdout.write(f"\nNOTES:\n{rendered.notes}\n")
        return 0
    with Releases(args.kubeconfig, args.namespace) as releases:
        if args.command == "install":
            values = load_values(args.values, args.set, args.set_file)
            result = releases.install(
                args.chart,
                args.release,
                values,
                wait=args.wait,
                timeout_s=args.timeout,
                create_namespace=args.create_namespace,
            )
        elif args.command == "upgrade":
            values = load_values(args.values, args.set, args.set_file)
            result = releases.upgrade(
                args.chart, args.release, values, wait=args.wait, timeout_s=args.timeout
            )
        elif args.command == "uninstall":
            releases.uninstall(args.release, wait=args.wait, timeout_s=args.timeout)
            print(f"release {args.release!r} uninstalled")
            return 0
        else:
            result = releases.status(args.release)
    print(f"NAME: {result.name}  REVISION: {result.revision}  STATUS: {result.status}")
    if result.notes:
        print(f"NOTES:\n{result.notes}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except HelmFailure as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
