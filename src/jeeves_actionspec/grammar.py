"""Command formats: `deploy {service} to {env=staging}` → typed segments, usage, JSON Schema.

A format is words separated by spaces. A word in braces is a parameter: `{name}` is required,
`{name=default}` is optional with a default, `{name?}` is optional without one (absent from the
params when not given). Every other word is a literal, matched case-insensitively. Rules, each
checked here and reported as a `SpecError`:

- a format starts with literal words (its *phrase*, e.g. `deploy`, `stop weather alerts`): the
  dispatcher routes a message starting with that phrase to the action, as it does keywords;
- parameter names are `snake_case`, each used once; each declared param appears in the format,
  and a placeholder without a declaration is a `string`;
- an optional parameter takes the literal words just before it along (`to {env=staging}`: "to"
  and the env are given together or not at all); only optional parameters may follow it;
- a default is a valid value of its parameter's type.

How a message is matched against these segments is in `matching`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from jeeves_actionspec.errors import SpecError
from jeeves_actionspec.values import BadValue, Param, ParamType, convert, describe_seconds
from jeeves_actionspec.values import json_schema as param_schema

MAX_COMMANDS = 32
MAX_PARAMS = 16
MAX_FORMAT = 200
MAX_CHOICES = 50
PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
COMMAND_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_PLACEHOLDER = re.compile(r"^\{([^{}=?]*)(\?|=([^{}]*))?\}$")
_LITERAL = re.compile(r"^[^\s{}<>`*_~\"]+$")


@dataclass(frozen=True)
class Segment:
    """Literal words and the parameter after them (None for trailing words)."""

    words: tuple[str, ...]
    param: Param | None


@dataclass(frozen=True)
class Command:
    """One way to call an action, with typed parameters."""

    name: str
    format: str
    segments: tuple[Segment, ...]
    description: str = ""

    @property
    def phrase(self) -> tuple[str, ...]:
        """The literal words every message for this command starts with."""
        return self.segments[0].words

    @property
    def params(self) -> tuple[Param, ...]:
        return tuple(s.param for s in self.segments if s.param is not None)

    def usage(self) -> str:
        """`deploy <service> [to <env>]`: how to type it."""
        parts: list[str] = []
        for index, segment in enumerate(self.segments):
            words = list(segment.words)
            param = segment.param
            if param is None:
                parts.extend(words)
            elif param.optional and index > 0:
                parts.append("[" + " ".join([*words, f"<{param.name}>"]) + "]")
            elif param.optional:
                parts.extend([*words, f"[<{param.name}>]"])
            else:
                parts.extend([*words, f"<{param.name}>"])
        return " ".join(parts)

    def json_schema(self, action: str = "") -> dict[str, Any]:
        """A JSON Schema of the params this command sends (for a modal or an LLM tool)."""
        properties = {p.name: param_schema(p) for p in self.params}
        schema: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": f"{action}.{self.name}" if action else self.name,
            "type": "object",
            "properties": properties,
            "required": [p.name for p in self.params if not p.optional],
            "additionalProperties": False,
            "x-jeeves-format": self.format,
            "x-jeeves-usage": self.usage(),
        }
        if self.description:
            schema["description"] = self.description
        return schema


def describe_param(param: Param) -> str:
    """One line of help: "`env` — one of staging, prod (default staging)"."""
    kinds = {
        ParamType.STRING: "text",
        ParamType.INT: "a whole number",
        ParamType.USER: "a @mention of a user",
        ParamType.CHANNEL: "a #channel",
        ParamType.DURATION: "a duration like 30s, 5m, 1h30m",
        ParamType.TIME: "a time of day like 7:30",
    }
    kind = f"one of {', '.join(param.choices)}" if param.choices else kinds[param.type]
    bounds = []
    show = describe_seconds if param.type is ParamType.DURATION else str
    if param.minimum is not None:
        bounds.append(f"at least {show(param.minimum)}")
    if param.maximum is not None:
        bounds.append(f"at most {show(param.maximum)}")
    if bounds:
        kind += f" ({', '.join(bounds)})"
    line = f"`{param.name}` — {param.description + ': ' if param.description else ''}{kind}"
    if param.optional:
        shown = param.default
        if isinstance(shown, int) and param.type is ParamType.DURATION:
            shown = describe_seconds(shown)
        line += f", default {shown}" if param.default is not None else ", optional"
    return line


# --- reading a declaration ---------------------------------------------------------------------


def _str(value: Any, path: str, *, required: bool = False, limit: int = 300) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise SpecError(path, "must be a non-empty string" if required else "must be a string")
    if len(value) > limit:
        raise SpecError(path, f"must be at most {limit} characters")
    return value


def _int(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise SpecError(path, "must be a whole number")
    return value


def _declared_param(raw: Any, path: str) -> Param:
    if not isinstance(raw, Mapping):
        raise SpecError(path, "must be an object with at least a name")
    name = _str(raw.get("name"), f"{path}.name", required=True)
    if not PARAM_NAME.match(name):
        raise SpecError(f"{path}.name", "must be snake_case: a-z, 0-9, '_', at most 40")
    try:
        kind = ParamType(raw.get("type") or "string")
    except ValueError:
        kinds = ", ".join(t.value for t in ParamType)
        raise SpecError(f"{path}.type", f"must be one of {kinds}") from None
    choices = raw.get("choices") or []
    if kind is ParamType.ENUM:
        if not isinstance(choices, list) or not choices or len(choices) > MAX_CHOICES:
            raise SpecError(f"{path}.choices", f"an enum needs 1 to {MAX_CHOICES} choices")
        for index, choice in enumerate(choices):
            if not isinstance(choice, str) or not _LITERAL.match(choice):
                raise SpecError(f"{path}.choices[{index}]", "must be one word")
        if len({c.lower() for c in choices}) != len(choices):
            raise SpecError(f"{path}.choices", "must be distinct (case does not count)")
    elif choices:
        raise SpecError(f"{path}.choices", "only an enum has choices")
    minimum, maximum = (
        _int(raw.get("minimum"), f"{path}.minimum"),
        _int(raw.get("maximum"), f"{path}.maximum"),
    )
    if (minimum is not None or maximum is not None) and kind not in (
        ParamType.INT,
        ParamType.DURATION,
    ):
        raise SpecError(path, "minimum/maximum apply to int and duration only")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise SpecError(f"{path}.maximum", "must not be below minimum")
    return Param(
        name=name,
        type=kind,
        description=_str(raw.get("description"), f"{path}.description", limit=200),
        choices=tuple(choices),
        minimum=minimum,
        maximum=maximum,
        secret=bool(raw.get("secret", False)),
    )


def _declared_params(raw: Any, path: str) -> dict[str, Param]:
    if raw is None:
        return {}
    if not isinstance(raw, list) or len(raw) > MAX_PARAMS:
        raise SpecError(path, f"must be a list of at most {MAX_PARAMS} parameters")
    params: dict[str, Param] = {}
    for index, item in enumerate(raw):
        param = _declared_param(item, f"{path}[{index}]")
        if param.name in params:
            raise SpecError(f"{path}[{index}].name", f"`{param.name}` is declared twice")
        params[param.name] = param
    return params


def _placeholder(word: str, declared: Mapping[str, Param], path: str) -> Param:
    found = _PLACEHOLDER.match(word)
    if found is None:
        raise SpecError(path, f"`{word}` is not a parameter: write {{name}} or {{name=default}}")
    name, marker, default = found[1], found[2], found[3]
    if not PARAM_NAME.match(name):
        raise SpecError(path, f"parameter `{name}` must be snake_case: a-z, 0-9, '_'")
    param = declared.get(name, Param(name=name))
    if marker is None:
        return param
    if marker == "?":
        return replace(param, optional=True)
    default = (default or "").strip()
    if not default:
        raise SpecError(path, f"`{{{name}=}}` has no default: write {{{name}?}} for none")
    try:
        value = convert(param, default)
    except BadValue as exc:
        raise SpecError(path, f"default `{default}` of `{name}`: {exc}") from None
    return replace(param, optional=True, default=value)


def parse_format(
    text: str, declared: Mapping[str, Param] | None = None, path: str = "format"
) -> tuple[Segment, ...]:
    """The segments of a format; SpecError naming the first rule it breaks."""
    declared = declared or {}
    if not text.strip():
        raise SpecError(path, "must not be empty")
    if len(text) > MAX_FORMAT:
        raise SpecError(path, f"must be at most {MAX_FORMAT} characters")
    segments: list[Segment] = []
    words: list[str] = []
    seen: set[str] = set()
    optional_seen = False
    for word in text.split():
        if "{" not in word and "}" not in word:
            if not _LITERAL.match(word):
                raise SpecError(path, f"`{word}` cannot be a literal word")
            words.append(word.lower())
            continue
        param = _placeholder(word, declared, path)
        if not segments and not words:
            raise SpecError(path, "must start with a literal word (what a message begins with)")
        if param.name in seen:
            raise SpecError(path, f"parameter `{param.name}` appears twice")
        if optional_seen and not param.optional:
            raise SpecError(path, f"required `{param.name}` follows an optional parameter")
        seen.add(param.name)
        optional_seen = optional_seen or param.optional
        segments.append(Segment(tuple(words), param))
        words = []
    if words:
        if optional_seen:
            raise SpecError(path, "no words may end a format after an optional parameter")
        segments.append(Segment(tuple(words), None))
    unused = sorted(set(declared) - seen)
    if unused:
        raise SpecError(path, f"declares `{unused[0]}` but the format never uses it")
    if len(seen) > MAX_PARAMS:
        raise SpecError(path, f"has more than {MAX_PARAMS} parameters")
    return tuple(segments)


def _default_name(segments: Sequence[Segment]) -> str:
    return "-".join(segments[0].words)[:40]


def parse_command(raw: Any, path: str) -> Command:
    """One entry of `commands`: {"format", "name"?, "description"?, "params"?}."""
    if not isinstance(raw, Mapping):
        raise SpecError(path, "must be an object with a format")
    text = _str(raw.get("format"), f"{path}.format", required=True, limit=MAX_FORMAT)
    declared = _declared_params(raw.get("params"), f"{path}.params")
    segments = parse_format(text, declared, f"{path}.format")
    name = _str(raw.get("name"), f"{path}.name", limit=40) or _default_name(segments)
    if not COMMAND_NAME.match(name):
        raise SpecError(f"{path}.name", "must be lowercase: a-z, 0-9, '-', '_', at most 40")
    description = _str(raw.get("description"), f"{path}.description")
    return Command(
        name=name, format=" ".join(text.split()), segments=segments, description=description
    )


def parse_commands(raw: Any, path: str = "commands") -> tuple[Command, ...]:
    """The `commands` list of a declaration (None or [] → no commands)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_COMMANDS:
        raise SpecError(path, f"must be a list of at most {MAX_COMMANDS} commands")
    commands: list[Command] = []
    names: set[str] = set()
    for index, item in enumerate(raw):
        command = parse_command(item, f"{path}[{index}]")
        if command.name in names:
            raise SpecError(
                f"{path}[{index}].name",
                f"two commands are named `{command.name}`: give each a distinct name",
            )
        names.add(command.name)
        commands.append(command)
    return tuple(commands)


def phrases(commands: Sequence[Command]) -> list[str]:
    """Every distinct leading phrase ("deploy", "stop weather alerts"), in order."""
    seen: dict[str, None] = {}
    for command in commands:
        seen.setdefault(" ".join(command.phrase), None)
    return list(seen)


MASK = "••••"
_SECRET_NAME = re.compile(r"pass(word|wd)?|secret|token|api_?key|credential|private", re.I)


def is_secret(param: Param) -> bool:
    """Declared `secret: true`, or named like one (`password`, `api_key`, `token`…)."""
    return param.secret or bool(_SECRET_NAME.search(param.name))


def masked(command: Command, params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` fit for the audit log: every secret value replaced by a mask."""
    secret = {p.name for p in command.params if is_secret(p)}
    return {name: MASK if name in secret else value for name, value in params.items()}


def mask_secret_names(params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` with every value whose name looks secret masked (for writers that cannot know
    the declaration, e.g. the audit log's own guard)."""
    return {
        name: MASK if _SECRET_NAME.search(str(name)) else value for name, value in params.items()
    }
