"""Turning what Slack sent into the plain words a user typed.

Slack encodes a message twice: as `text` in its "mrkdwn" wire format (`<@U123>`, `<#C1|general>`,
`<https://x|label>`, `&amp;`) and, for messages typed in a client, as `rich_text` blocks. Blocks are
the better source when present (nothing to unescape); `text` is decoded when there are none. The
bot's own leading mention is removed; every other token becomes readable text. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# One Slack "angle bracket" token: <target> or <target|label>.
_TOKEN = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
_SPACES = re.compile(r"\s+")
_NBSP = ("\u00a0", "\u2007", "\u202f", "\u200b")
_LEADING_USER = re.compile(r"^\s*<@([A-Z0-9]+)(?:\|[^<>]*)?>")
_BROADCASTS = {"here", "channel", "everyone"}


def unescape(text: str) -> str:
    """Decode Slack's three HTML entities (and nothing else: `&quot;` is not one of them)."""
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def normalise_spaces(text: str) -> str:
    """Non-breaking and zero-width spaces become spaces; runs of whitespace collapse to one."""
    for odd in _NBSP:
        text = text.replace(odd, " " if odd != "\u200b" else "")
    return _SPACES.sub(" ", text).strip()


def names_in(text: str) -> dict[str, str]:
    """Labels Slack put in `text` for ids (`<#C1|general>` → {"C1": "general"})."""
    names: dict[str, str] = {}
    for match in _TOKEN.finditer(text):
        target, label = match.group(1), match.group(2)
        if label and target[:2] in ("#C", "@U", "@W"):
            names[target[1:]] = unescape(label)
    return names


def _render_token(target: str, label: str | None, ids: bool = False) -> str:
    if ids and target.startswith(("@U", "@W", "#C", "#G", "#D")):
        return f"<{target}>"
    if target.startswith(("@U", "@W", "@B")):
        return "@" + (label or target[1:])
    if target.startswith("#C"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        return _render_special(target[1:], label)
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    return label or target


def _render_special(body: str, label: str | None) -> str:
    """`<!here>`, `<!subteam^S1|@team>`, `<!date^…|fallback>` and friends."""
    if label:
        return label
    name, _, rest = body.partition("^")
    if name == "subteam" and rest:
        return "@" + rest
    return "@" + name if name in _BROADCASTS else name


def decode_mrkdwn(text: str, ids: bool = False) -> str:
    """Slack's wire text → what the user saw: tokens rendered, entities decoded."""
    parts: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        parts.append(unescape(text[position : match.start()]))
        label = unescape(match.group(2)) if match.group(2) is not None else None
        parts.append(_render_token(unescape(match.group(1)), label, ids))
        position = match.end()
    parts.append(unescape(text[position:]))
    return "".join(parts)


def strip_bot_mention(text: str, bot_user_id: str) -> str:
    """Remove the bot's mention when it opens the text (other mentions stay)."""
    match = _LEADING_USER.match(text)
    if match and match.group(1) == bot_user_id:
        return text[match.end() :]
    return text


def _render_element(element: Mapping[str, Any], names: Mapping[str, str], ids: bool) -> str:
    kind = element.get("type")
    if kind == "text":
        return str(element.get("text", ""))
    if kind == "link":
        return str(element.get("text") or element.get("url", ""))
    if kind == "user":
        user = str(element.get("user_id", ""))
        return f"<@{user}>" if ids else "@" + names.get(user, user)
    if kind == "channel":
        channel = str(element.get("channel_id", ""))
        return f"<#{channel}>" if ids else "#" + names.get(channel, channel)
    if kind == "usergroup":
        return "@" + str(element.get("usergroup_id", ""))
    if kind == "broadcast":
        return "@" + str(element.get("range", ""))
    if kind == "emoji":
        return ":" + str(element.get("name", "")) + ":"
    if kind == "date":
        return str(element.get("fallback", ""))
    return ""


def _walk(elements: Iterable[Any], names: Mapping[str, str], ids: bool) -> Iterable[str]:
    """Rendered pieces of a rich_text element tree, depth first; sections end with a space."""
    for element in elements:
        if not isinstance(element, Mapping):
            continue
        children = element.get("elements")
        if isinstance(children, list):
            yield from _walk(children, names, ids)
            yield " "
        else:
            yield _render_element(element, names, ids)


def _leading_user(blocks: list[Mapping[str, Any]]) -> str | None:
    """The user id of the first element of the first rich_text section, when it is a mention."""
    for element in _walk_first(blocks):
        if element.get("type") == "user":
            return str(element.get("user_id", ""))
        if element.get("type") == "text" and not str(element.get("text", "")).strip():
            continue
        return None
    return None


def _walk_first(elements: Iterable[Any]) -> Iterable[Mapping[str, Any]]:
    for element in elements:
        if not isinstance(element, Mapping):
            continue
        children = element.get("elements")
        if isinstance(children, list):
            yield from _walk_first(children)
        else:
            yield element


def rich_text_blocks(blocks: object) -> list[Mapping[str, Any]]:
    """The rich_text blocks of a message (other block types carry no typed text)."""
    if not isinstance(blocks, list):
        return []
    return [b for b in blocks if isinstance(b, Mapping) and b.get("type") == "rich_text"]


def _drop_first_user(blocks: list[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    """Blocks with their first user element removed (the leading bot mention)."""
    dropped = False

    def prune(elements: list[Any]) -> list[Any]:
        nonlocal dropped
        kept: list[Any] = []
        for element in elements:
            if not dropped and isinstance(element, Mapping):
                if element.get("type") == "user":
                    dropped = True
                    continue
                children = element.get("elements")
                if isinstance(children, list):
                    element = {**element, "elements": prune(children)}
            kept.append(element)
        return kept

    return prune(list(blocks))


def extract_text(text: str, blocks: object, bot_user_id: str, *, ids: bool = False) -> str:
    """The clean text of a message: rich_text blocks when present, else decoded `text`
    (`ids`: mentions stay `<@U…>`/`<#C…>` tokens, see the module docstring)."""
    rich = rich_text_blocks(blocks)
    if rich:
        names = names_in(text)
        chosen: Iterable[Mapping[str, Any]] = rich
        if bot_user_id and _leading_user(rich) == bot_user_id:
            chosen = _drop_first_user(rich)
        return normalise_spaces("".join(_walk(chosen, names, ids)))
    stripped = strip_bot_mention(text, bot_user_id) if bot_user_id else text
    return normalise_spaces(decode_mrkdwn(stripped, ids))
