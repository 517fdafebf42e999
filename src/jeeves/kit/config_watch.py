"""A live, last-known-good copy of one etcd prefix: list, watch, resync, report freshness.

`ConfigWatch` lists `/jeeves/<env>/` once, then follows it with a watch from the next revision.
A prober asks etcd every `probe_interval_s`; when etcd comes back after being unreachable, or
when the client library re-creates the watch stream after an error, the watcher re-lists and
re-watches (so nothing written meanwhile is missed, whatever revision the library resumed
from), and when etcd answers that the watch start was compacted it re-lists too. While etcd
is unreachable the last-known values stay in place.

`ParsedSection` turns one section (`actions/`, `flags/`) into typed values: a key whose value
does not parse is ignored (as if absent) with an error log and `jeeves_config_invalid_total`;
every other key still applies. `install_config` gives an app its one shared watch, started
and stopped with serving, with a `config` readiness check and metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any, Generic, TypeVar, cast

from etcd3aio import Etcd3Client, prefix_range_end
from prometheus_client import CollectorRegistry, Counter, Gauge
from quart import Quart

from jeeves.kit.app import kit
from jeeves.kit.etcd import Snapshot, env_prefix, make_client, parse_endpoints, read_prefix
from jeeves.kit.health import CheckFailed, Degraded
from jeeves.kit.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")
# Changed keys (relative to the watched prefix) → new value, or None when deleted.
Changes = Mapping[str, bytes | None]
Listener = Callable[[Changes], None]
EXTRA_KEY = "config_watch"
PUT, DELETE = 0, 1


def diff(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> dict[str, bytes | None]:
    """What changed from `old` to `new`: new or changed keys with their value, gone keys → None."""
    changes: dict[str, bytes | None] = {k: v for k, v in new.items() if old.get(k) != v}
    changes.update({k: None for k in old if k not in new})
    return changes


class ConfigMetrics:
    """The freshness metrics of a service's etcd configuration."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.up = Gauge(
            "jeeves_etcd_up", "1 while etcd answers, 0 while it does not", [], registry=registry
        )
        self.last_update = Gauge(
            "jeeves_config_last_update_timestamp_seconds",
            "Unix time the configuration was last confirmed current (listed or changed)",
            registry=registry,
        )
        self.revision = Gauge(
            "jeeves_config_revision", "etcd revision the configuration reflects", registry=registry
        )
        self.keys = Gauge("jeeves_config_keys", "Keys held under the prefix", registry=registry)
        self.relists = Counter(
            "jeeves_config_relists_total",
            "Full re-reads of the prefix, by reason",
            ["reason"],
            registry=registry,
        )
        self.invalid = Counter(
            "jeeves_config_invalid_total",
            "Values ignored because they did not parse, by section",
            ["prefix"],
            registry=registry,
        )


class ConfigWatch:
    """The live copy of one etcd prefix; values are keyed relative to the prefix."""

    def __init__(
        self,
        endpoints: str,
        prefix: str,
        *,
        registry: CollectorRegistry | None = None,
        probe_interval_s: float = 0.5,
    ) -> None:
        parse_endpoints(endpoints)  # a malformed setting fails at build time, not at serving
        self.prefix = prefix
        self.metrics = ConfigMetrics(registry or CollectorRegistry())
        self._endpoints = endpoints
        self._probe_interval_s = probe_interval_s
        self._values: dict[str, bytes] = {}
        self._listeners: list[Listener] = []
        self._client: Etcd3Client | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._resync = asyncio.Event()
        self._synced = asyncio.Event()
        self.revision = 0
        self.up = False
        self.down_since: float | None = None
        self.last_update: float | None = None
        self.last_error = ""
        self.last_error_type = ""  # what /readyz may show (never the text)

    # -- reading -------------------------------------------------------------------------
    @property
    def values(self) -> Mapping[str, bytes]:
        return self._values

    def get(self, key: str) -> bytes | None:
        return self._values.get(key)

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with every batch of changes (and once now with the current values)."""
        self._listeners.append(listener)
        if self._values:
            listener(dict(self._values))

    def status(self) -> tuple[bool, str]:
        """(fresh, one line for /readyz): fresh means etcd answers and the prefix is synced."""
        held = f"{len(self._values)} keys at revision {self.revision}"
        if self.up and self._synced.is_set():
            return True, f"etcd up; {held}"
        if self.up:
            return False, "etcd up; first load of the configuration in progress"
        since = time.time() - self.down_since if self.down_since else 0.0
        age = f"{time.time() - self.last_update:.1f}s old" if self.last_update else "never loaded"
        # Only the error's type: its text can name hosts (the full text is in the etcd_down log).
        return False, (
            f"degraded: etcd unreachable for {since:.1f}s ({self.last_error_type}); "
            f"serving last-known config ({held}, {age})"
        )

    @property
    def loaded(self) -> bool:
        """Whether the prefix was read at least once (there is a last-known configuration)."""
        return self._synced.is_set()

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self, *, wait_s: float = 2.0) -> None:
        """Start following etcd; wait up to `wait_s` for the first load (never fail on it)."""
        self._client = make_client(self._endpoints)
        await self._client.connect()
        self._tasks = [
            asyncio.create_task(self._follow_forever(), name="config-watch"),
            asyncio.create_task(self._probe_forever(), name="config-probe"),
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._synced.wait(), wait_s)

    async def wait_synced(self, timeout_s: float) -> None:
        await asyncio.wait_for(self._synced.wait(), timeout_s)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._client is not None:
            await self._client.close()
            self._client = None

    # -- applying changes ----------------------------------------------------------------
    def apply(self, changes: Mapping[str, bytes | None], revision: int) -> None:
        """Apply one batch of changes at `revision` and tell every listener (the loop calls it)."""
        for key, value in changes.items():
            if value is None:
                self._values.pop(key, None)
            else:
                self._values[key] = value
        self.revision = max(self.revision, revision)
        self.last_update = time.time()
        self.metrics.last_update.set(self.last_update)
        self.metrics.revision.set(self.revision)
        self.metrics.keys.set(len(self._values))
        if changes:
            for listener in self._listeners:
                try:
                    listener(changes)
                except Exception:  # a faulty listener must not stop the watch
                    log.exception("config_listener_failed", prefix=self.prefix)

    def _replace(self, snapshot: Snapshot) -> None:
        self.apply(diff(self._values, snapshot.values), snapshot.revision)
        self.revision = snapshot.revision
        self._synced.set()

    def _mark(self, up: bool, error: BaseException | None = None) -> None:
        if up and not self.up:
            log.info("etcd_up", prefix=self.prefix, revision=self.revision)
            self.down_since = None
        if not up and (self.up or self.down_since is None):
            text = f"{type(error).__name__}: {error}"[:200] if error else ""
            log.warning("etcd_down", prefix=self.prefix, error=text)
            self.down_since = time.time()
            self.last_error = text
            self.last_error_type = type(error).__name__ if error else ""
        self.up = up
        self.metrics.up.set(1 if up else 0)

    # -- the loops -----------------------------------------------------------------------
    async def _follow_forever(self) -> None:
        backoff, reason = 0.1, ""
        while True:
            if reason:
                self.metrics.relists.labels(reason).inc()
            try:
                reason = await self._list_and_watch()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._mark(False, exc)
                reason = "error"
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)

    async def _list_and_watch(self) -> str:
        """List, then watch from the next revision; returns why a re-list is needed."""
        assert self._client is not None
        self._resync.clear()
        self._replace(await read_prefix(self._client, self.prefix))
        self._mark(True)
        watch = asyncio.create_task(self._watch(self.revision + 1))
        resync: asyncio.Task[Any] = asyncio.create_task(self._resync.wait())
        try:
            done, _ = await asyncio.wait({watch, resync}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (watch, resync):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if watch in done:
            return watch.result()  # or re-raise a watch failure
        return "reconnected"

    async def _watch(self, start_revision: int) -> str:
        """Apply watch events; return why a re-list is needed (compaction, or a new stream)."""
        assert self._client is not None
        assert self._client.watch is not None
        # Declared an AsyncIterator, it is an async generator: close it so the stream ends.
        stream = cast(
            "AsyncGenerator[Any, None]",
            self._client.watch.watch(
                self.prefix, prefix_range_end(self.prefix), start_revision=start_revision
            ),
        )
        streams = 0
        async with contextlib.aclosing(stream) as responses:
            async for response in responses:
                if response.canceled or response.compact_revision:
                    log.warning(
                        "config_watch_compacted",
                        prefix=self.prefix,
                        compact_revision=response.compact_revision,
                    )
                    return "compacted"
                if response.created:
                    streams += 1
                    if streams > 1:  # etcd3aio re-created the stream after an error
                        return "rewatched"
                changes: dict[str, bytes | None] = {}
                for event in response.events:
                    key = event.kv.key.decode()[len(self.prefix) :]
                    changes[key] = None if event.type == DELETE else bytes(event.kv.value)
                if changes:
                    self.apply(changes, int(response.header.revision))
        return "ended"

    async def _probe_forever(self) -> None:
        while True:
            await asyncio.sleep(self._probe_interval_s)
            await self._probe()

    async def _probe(self) -> None:
        assert self._client is not None
        assert self._client.kv is not None
        try:
            await self._client.kv.get(
                self.prefix, prefix_range_end(self.prefix), count_only=True, timeout=1.0
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._mark(False, exc)
            return
        if not self.up:
            # Back after an outage: re-list rather than trust the client's own resume.
            self._resync.set()
        else:
            self.last_update = time.time()
            self.metrics.last_update.set(self.last_update)


class ParsedSection(Generic[T]):
    """Typed values of one section (e.g. `actions/`) of a ConfigWatch, re-parsed on change."""

    def __init__(
        self,
        watch: ConfigWatch,
        section: str,
        parse: Callable[[str, bytes], T],
    ) -> None:
        self.section = section
        self._parse = parse
        self._invalid = watch.metrics.invalid.labels(section.rstrip("/"))
        self._items: dict[str, T] = {}
        watch.subscribe(self._apply)

    @property
    def items(self) -> Mapping[str, T]:
        """A consistent snapshot: replaced as a whole, never mutated in place."""
        return self._items

    def _apply(self, changes: Changes) -> None:
        items = dict(self._items)
        touched = False
        for key, raw in changes.items():
            if not key.startswith(self.section):
                continue
            name = key[len(self.section) :]
            touched = True
            items.pop(name, None)
            if raw is not None:
                parsed = self._parse_one(name, raw)
                if parsed is not None:
                    items[name] = parsed
        if touched:
            self._items = items

    def _parse_one(self, name: str, raw: bytes) -> T | None:
        try:
            return self._parse(name, raw)
        except (ValueError, TypeError) as exc:
            self._invalid.inc()
            log.error("config_value_invalid", section=self.section, key=name, error=str(exc)[:300])
            return None


def install_config(app: Quart, *, env: str, etcd_endpoints: str) -> ConfigWatch:
    """The app's one watch of `/jeeves/<env>/` (created on first call, shared afterwards)."""
    existing = kit(app).extras.get(EXTRA_KEY)
    if isinstance(existing, ConfigWatch):
        return existing
    watch = ConfigWatch(etcd_endpoints, env_prefix(env), registry=kit(app).registry)
    kit(app).extras[EXTRA_KEY] = watch

    @app.before_serving
    async def _start() -> None:
        await watch.start()

    @app.after_serving
    async def _stop() -> None:
        await watch.stop()

    async def _check() -> str | None:
        """Degraded (still ready) while etcd is away but a configuration was loaded once; not
        ready before the first load (routing by an empty registry would answer "unknown")."""
        fresh, detail = watch.status()
        if fresh:
            return detail
        if watch.loaded:
            raise Degraded(detail)
        raise CheckFailed(detail)

    kit(app).readiness.add("config", _check)
    return watch


def config_of(app: Quart) -> ConfigWatch | None:
    """The app's ConfigWatch, when one was installed."""
    value = kit(app).extras.get(EXTRA_KEY)
    return value if isinstance(value, ConfigWatch) else None
