"""Matching a message against an action's commands: typed params, or what exactly is wrong.

The message is split into tokens: words, "quoted phrases" (one token, quotes removed) and Slack
tokens such as `<@U123|alice>` (one token, so a mention keeps its id). Matching is linear, left to
right, with no guessing:

- literal words must be there (any case, trailing `?!.,;` ignored);
- a parameter takes one token, except a `string` that ends the format: it takes the rest;
- an optional parameter and its words are there when the next token is its first word (or, for
  one without words, when anything is left); once its first word is seen, the rest must follow;
- anything left over is an error, never silently dropped.

Which commands are tried: those whose phrase (leading literal words) the message starts with,
and of those only the ones with the LONGEST phrase — "deploy status" wins over "deploy
{service}" for "deploy status", exactly as the router prefers longer keywords. The first that
matches wins (declaration order); when none does, the complaint of the one that got furthest is
returned. A message that starts no command's phrase matches nothing (`None`): the dispatcher then
calls the action with free text, as for actions without commands.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from jeeves_actionspec.grammar import Command
from jeeves_actionspec.values import BadValue, ParamType, Value, convert

_TOKEN = re.compile(r"\"([^\"]*)\"|\u201c([^\u201d]*)\u201d|(<[^<>]*>)|(\S+)")
_TRAILING = "?!.,;"


@dataclass(frozen=True)
class Token:
    value: str  # without quotes
    start: int  # span in the message
    end: int
    quoted: bool = False


@dataclass(frozen=True)
class Matched:
    """The message is a call of `command` with these typed params (defaults filled in)."""

    command: Command
    params: dict[str, Value]


@dataclass(frozen=True)
class Mismatch:
    """The message starts `command` but breaks it; `problem` is one sentence for the user."""

    command: Command
    problem: str
    position: int  # tokens accepted before the problem (the furthest complaint wins)


def tokenize(text: str) -> list[Token]:
    tokens = []
    for found in _TOKEN.finditer(text):
        quoted = found[1] if found[1] is not None else found[2]
        if quoted is not None:
            tokens.append(Token(quoted, found.start(), found.end(), quoted=True))
        else:
            tokens.append(Token(found[0], found.start(), found.end()))
    return tokens


def _is_word(word: str, token: Token) -> bool:
    return not token.quoted and (token.value.rstrip(_TRAILING) or token.value).lower() == word


def starts_with(phrase: Sequence[str], tokens: Sequence[Token]) -> bool:
    return len(tokens) >= len(phrase) and all(
        _is_word(word, token) for word, token in zip(phrase, tokens, strict=False)
    )


def _rest(text: str, tokens: Sequence[Token], position: int) -> str:
    if position == len(tokens) - 1 and tokens[position].quoted:
        return tokens[position].value
    return text[tokens[position].start : tokens[-1].end]


def match_command(command: Command, text: str, tokens: Sequence[Token]) -> Matched | Mismatch:
    """`text` (already split into `tokens`) as a call of `command`."""
    position = 0
    params: dict[str, Value] = {}
    last = len(command.segments) - 1
    for index, segment in enumerate(command.segments):
        param = segment.param
        committed = param is None or not param.optional  # an optional part, once begun
        if not committed:
            left = position < len(tokens)
            opened_by_word = index > 0 and bool(segment.words)
            if not left or (opened_by_word and not _is_word(segment.words[0], tokens[position])):
                continue
            committed = opened_by_word
        for word in segment.words:
            if position >= len(tokens):
                after = tokens[position - 1].value if position else ""
                return Mismatch(command, f"I expected `{word}` after `{after}`", position)
            if not _is_word(word, tokens[position]):
                wrote = tokens[position].value
                return Mismatch(command, f"I expected `{word}` where you wrote `{wrote}`", position)
            position += 1
        if param is None:
            continue
        if position >= len(tokens):
            if not committed:
                continue
            return Mismatch(command, f"`{param.name}` is missing", position)
        if index == last and param.type is ParamType.STRING:
            raw, position = _rest(text, tokens, position), len(tokens)
        else:
            raw, position = tokens[position].value, position + 1
        try:
            params[param.name] = convert(param, raw)
        except BadValue as exc:
            return Mismatch(command, str(exc), position)
    if position < len(tokens):
        leftover = text[tokens[position].start :].strip()
        return Mismatch(command, f"I did not understand `{leftover}` at the end", position)
    for param in command.params:
        if param.name not in params and param.default is not None:
            params[param.name] = param.default
    return Matched(command, params)


def candidates(commands: Sequence[Command], tokens: Sequence[Token]) -> list[Command]:
    """The commands the message starts, longest phrase only, in declaration order."""
    started = [c for c in commands if starts_with(c.phrase, tokens)]
    if not started:
        return []
    longest = max(len(c.phrase) for c in started)
    return [c for c in started if len(c.phrase) == longest]


def match(commands: Sequence[Command], text: str) -> Matched | Mismatch | None:
    """The command `text` calls, the best complaint, or None when it starts no command."""
    tokens = tokenize(text)
    best: Mismatch | None = None
    for command in candidates(commands, tokens):
        result = match_command(command, text, tokens)
        if isinstance(result, Matched):
            return result
        if best is None or result.position > best.position:
            best = result
    return best
