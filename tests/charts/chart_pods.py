"""Run a rendered Pod's containers as local processes, the way a kubelet would set them up.

`LocalPod` takes one workload of a `Rendering` and materialises its volumes in a directory
(Secrets and ConfigMaps from the rendering, or ones the test says exist; projected volumes;
emptyDirs), resolves each container's environment (secretKeyRef, $(VAR) expansion), maps every
mount path in arguments and variables to its local directory, and runs the container's
command from the virtualenv (`jeeves-X` entry points, `python3` as this interpreter). So the
commands, paths, files and settings a chart gives a Pod are exercised for real, without a
cluster or images.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from support.helm import KubeObject, Rendering
from support.services import entry_point

Files = dict[str, str]
EXPANSION = re.compile(r"\$\((\w+)\)")


class LocalPod:
    """The Pod of `kind`/`name` in `rendering`, rooted at `root`."""

    def __init__(
        self,
        rendering: Rendering,
        kind: str,
        name: str,
        root: Path,
        existing: Mapping[str, Files] | None = None,
    ) -> None:
        self.obj = rendering.find(kind, name)
        self.spec: dict[str, Any] = self.obj["spec"]["template"]["spec"]
        self.root = root
        self.secrets: dict[str, Files] = {
            s["metadata"]["name"]: {
                k: base64.b64decode(v).decode() for k, v in (s.get("data") or {}).items()
            }
            for s in rendering.of_kind("Secret")
        }
        self.secrets.update(existing or {})
        self.config_maps: dict[str, Files] = {
            c["metadata"]["name"]: dict(c.get("data") or {}) for c in rendering.of_kind("ConfigMap")
        }
        self.volumes: dict[str, Path] = {
            v["name"]: self._materialise(v) for v in self.spec.get("volumes") or []
        }

    def container(self, name: str) -> dict[str, Any]:
        for item in [*(self.spec.get("initContainers") or []), *self.spec["containers"]]:
            if item["name"] == name:
                return dict(item)
        raise KeyError(f"no container {name} in {self.obj['metadata']['name']}")

    @property
    def init_containers(self) -> list[str]:
        return [c["name"] for c in self.spec.get("initContainers") or []]

    def _materialise(self, volume: KubeObject) -> Path:
        path: Path = self.root / "volumes" / str(volume["name"])
        path.mkdir(parents=True)
        if "secret" in volume:
            source = self.secrets[volume["secret"]["secretName"]]
            self._write(path, source, volume["secret"].get("items"))
        elif "configMap" in volume:
            self._write(path, self.config_maps[volume["configMap"]["name"]], None)
        elif "projected" in volume:
            for item in volume["projected"]["sources"]:
                self._write(path, self.secrets[item["secret"]["name"]], item["secret"].get("items"))
        return path

    @staticmethod
    def _write(path: Path, files: Files, items: list[dict[str, str]] | None) -> None:
        chosen = [(i["key"], i["path"]) for i in items] if items else [(k, k) for k in files]
        for key, name in chosen:
            (path / name).write_text(files[key])

    def _mounts(self, container: Mapping[str, Any]) -> list[tuple[str, Path]]:
        mounts = [
            (m["mountPath"], self.volumes[m["name"]]) for m in container.get("volumeMounts") or []
        ]
        return sorted(mounts, key=lambda pair: -len(pair[0]))  # longest path first

    def local(self, container: Mapping[str, Any], value: str) -> str:
        """`value` with every mount path replaced by its local directory (in one pass)."""
        mounts = dict(self._mounts(container))
        if not mounts:
            return value
        pattern = "|".join(re.escape(m) for m in mounts)  # longest first: /tmp/x before /tmp
        return re.sub(
            rf"(?<![\w/])({pattern})(?=/|$|[^\w/])", lambda m: str(mounts[m.group(1)]), value
        )

    def env(self, container: Mapping[str, Any], **overrides: str) -> dict[str, str]:
        resolved: dict[str, str] = {}
        for item in container.get("env") or []:
            if "value" in item:
                value = re.sub(
                    r"\$\((\w+)\)", lambda m: resolved.get(m.group(1), ""), item["value"]
                )
            else:
                ref = item["valueFrom"]["secretKeyRef"]
                source = self.secrets.get(ref["name"])
                if source is None or ref["key"] not in source:
                    if ref.get("optional"):
                        continue
                    raise KeyError(f"Secret {ref['name']} key {ref['key']} does not exist")
                value = source[ref["key"]]
            resolved[item["name"]] = self.local(container, value)
        return {**resolved, **overrides}

    def argv(self, container: Mapping[str, Any]) -> list[str]:
        words = [*(container.get("command") or []), *(container.get("args") or [])]
        if not words:
            raise ValueError(f"container {container['name']} relies on the image's CMD")
        program = [sys.executable] if words[0] == "python3" else entry_point(words[0])
        return [*program, *(self.local(container, w) for w in words[1:])]

    def run(
        self, name: str, timeout: float = 120, **overrides: str
    ) -> subprocess.CompletedProcess[str]:
        container = self.container(name)
        env = {"PATH": os.environ["PATH"], **self.env(container, **overrides)}
        return subprocess.run(
            self.argv(container),
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
