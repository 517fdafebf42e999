"""Choosing what handles a message: a built-in, a registered action, or a friendly "unknown".

A message is routed by the keyword it starts with — case-insensitive, whole words, the longest
(multi-word) keyword first — against one snapshot of the registry. The phrase each typed
command begins with ("stop weather alerts") routes like a keyword. Only the keyword is removed:
"weather in Berlin" calls `weather` with args "in Berlin". Built-ins (`help`, `login`) win over
actions that claim the same word. Pure functions.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jeeves.kit.actions import ActionSpec

BUILTINS = ("help", "login")
_WORD = re.compile(r"\S+")
_TRAILING_PUNCTUATION = "?!.,:;"


@dataclass(frozen=True)
class Invoke:
    """Call `spec` with the text after its keyword."""

    spec: ActionSpec
    keyword: str
    args: str


@dataclass(frozen=True)
class Builtin:
    """A command the dispatcher answers itself."""

    name: str
    args: str


@dataclass(frozen=True)
class Disabled:
    """The keyword belongs to an action that is turned off."""

    spec: ActionSpec
    keyword: str


@dataclass(frozen=True)
class Unknown:
    """No keyword matched; `suggestion` is the closest known keyword, if any is close."""

    word: str
    suggestion: str | None


@dataclass(frozen=True)
class Empty:
    """The message held nothing but the mention."""


Route = Invoke | Builtin | Disabled | Unknown | Empty


@dataclass(frozen=True)
class _Entry:
    words: tuple[str, ...]
    spec: ActionSpec | None  # None: a built-in

    @property
    def keyword(self) -> str:
        return " ".join(self.words)


def _entries(actions: Mapping[str, ActionSpec]) -> list[_Entry]:
    """Every keyword, most specific first; ties go to enabled actions, then by name."""
    entries = [_Entry((name,), None) for name in BUILTINS]
    for spec in actions.values():
        words = dict.fromkeys(
            [tuple(k.lower().split()) for k in spec.keywords]
            + [command.phrase for command in spec.declaration.commands]
        )
        entries.extend(_Entry(w, spec) for w in words if w)

    def order(entry: _Entry) -> tuple[int, int, int, int, str]:
        builtin = entry.spec is None
        enabled = builtin or (entry.spec is not None and entry.spec.enabled)
        name = entry.spec.name if entry.spec is not None else ""
        return (-len(entry.words), -len(entry.keyword), not builtin, not enabled, name)

    return sorted(entries, key=order)


def _matches(words: tuple[str, ...], tokens: Sequence[re.Match[str]]) -> bool:
    if len(tokens) < len(words):
        return False
    for index, word in enumerate(words):
        token = tokens[index].group().lower()
        if index == len(words) - 1:
            token = token.rstrip(_TRAILING_PUNCTUATION) or token
        if token != word:
            return False
    return True


def route(text: str, actions: Mapping[str, ActionSpec]) -> Route:
    """Where `text` (already cleaned of mentions and markup) should go."""
    tokens = list(_WORD.finditer(text))
    if not tokens:
        return Empty()
    for entry in _entries(actions):
        if not _matches(entry.words, tokens):
            continue
        args = text[tokens[len(entry.words) - 1].end() :].strip()
        if entry.spec is None:
            return Builtin(entry.keyword, args)
        if not entry.spec.enabled:
            return Disabled(entry.spec, entry.keyword)
        return Invoke(entry.spec, entry.keyword, args)
    first = tokens[0].group()
    return Unknown(first, closest_keyword(first, actions))


def known_keywords(actions: Mapping[str, ActionSpec]) -> list[str]:
    """Keywords a user may type right now: built-ins and those of enabled actions."""
    keywords = set(BUILTINS)
    for spec in actions.values():
        if spec.enabled:
            keywords.update(" ".join(k.lower().split()) for k in spec.keywords)
    return sorted(keywords)


def closest_keyword(word: str, actions: Mapping[str, ActionSpec]) -> str | None:
    """The known keyword most like `word` (difflib), or None when none is close."""
    candidates = known_keywords(actions)
    cleaned = word.lower().rstrip(_TRAILING_PUNCTUATION)
    by_first_word: dict[str, str] = {}
    for keyword in sorted(candidates, key=len, reverse=True):
        by_first_word[keyword.split()[0]] = keyword  # the shortest keyword wins its first word
    close = difflib.get_close_matches(cleaned, list(by_first_word), n=1, cutoff=0.6)
    return by_first_word[close[0]] if close else None
