"""The in-memory side of the etcd configuration: diffs, typed sections, registry and status.

A `ConfigWatch` is built but never started (no etcd); changes are fed through `apply`, the
same entry point the watch loop uses.
"""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from jeeves.kit.actions import StaticRegistry
from jeeves.kit.app import create_app
from jeeves.kit.config_watch import ConfigWatch, diff
from jeeves.kit.registry import EtcdRegistry, install_registry
from jeeves.kit.settings import ServiceSettings

pytestmark = pytest.mark.unit
ECHO = b'{"keywords": ["echo"], "url": "http://127.0.0.1:1"}'
WEATHER = b'{"keywords": ["weather"], "url": "http://127.0.0.1:2"}'


def make_watch() -> tuple[ConfigWatch, CollectorRegistry]:
    registry = CollectorRegistry()
    return ConfigWatch("127.0.0.1:1", "/jeeves/test/", registry=registry), registry


def test_diff_reports_new_changed_and_removed_keys() -> None:
    old = {"a": b"1", "b": b"2", "c": b"3"}
    new = {"a": b"1", "b": b"20", "d": b"4"}
    assert diff(old, new) == {"b": b"20", "d": b"4", "c": None}


def test_registry_follows_puts_and_deletes() -> None:
    watch, _ = make_watch()
    registry = EtcdRegistry(watch)
    watch.apply({"actions/echo": ECHO, "actions/weather": WEATHER}, 5)
    before = registry.actions()
    watch.apply({"actions/echo": None}, 6)
    assert sorted(before) == ["echo", "weather"]  # a snapshot is never mutated in place
    assert sorted(registry.actions()) == ["weather"]
    assert watch.revision == 6


def test_a_malformed_value_is_ignored_and_counted_and_others_apply() -> None:
    watch, metrics = make_watch()
    registry = EtcdRegistry(watch)
    watch.apply({"actions/echo": ECHO, "actions/broken": b"{nope", "actions/a/b": ECHO}, 3)
    assert sorted(registry.actions()) == ["echo"]
    assert metrics.get_sample_value("jeeves_config_invalid_total", {"prefix": "actions"}) == 2


def test_a_valid_value_turned_malformed_drops_the_action() -> None:
    watch, _ = make_watch()
    registry = EtcdRegistry(watch)
    watch.apply({"actions/echo": ECHO}, 3)
    watch.apply({"actions/echo": b'{"keywords": []}'}, 4)
    assert registry.actions() == {}


def test_sections_subscribed_late_see_current_values() -> None:
    watch, _ = make_watch()
    watch.apply({"actions/echo": ECHO, "flags/x": b"{}"}, 2)
    assert sorted(EtcdRegistry(watch).actions()) == ["echo"]


def test_a_failing_listener_does_not_stop_the_others() -> None:
    watch, _ = make_watch()
    seen: list[str] = []

    def broken(_changes: object) -> None:
        raise RuntimeError("listener bug")

    watch.subscribe(broken)
    registry = EtcdRegistry(watch)
    watch.subscribe(lambda changes: seen.extend(changes))
    watch.apply({"actions/echo": ECHO}, 2)
    assert sorted(registry.actions()) == ["echo"]
    assert seen == ["actions/echo"]


def test_status_before_any_load_is_not_fresh() -> None:
    watch, _ = make_watch()
    fresh, detail = watch.status()
    assert not fresh
    assert "never loaded" in detail


def test_install_registry_without_etcd_is_static() -> None:
    app = create_app("t", ServiceSettings(), configure_logs=False)
    assert isinstance(install_registry(app, env="dev"), StaticRegistry)
