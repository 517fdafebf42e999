"""Typed boundaries: pydantic validation of what crosses a process edge, with one clear problem.

Every payload Jeeves reads from outside its own process — queue jobs, action envelopes and
answers, `POST /v1/messages`, registry and flag values in etcd — is checked by a pydantic model
(or a TypeAdapter over a TypedDict). `check(shape, data)` returns the validated value or raises
`Invalid`: a ValueError naming the first offending field (`user.slack_id`, `blocks.0`) and what
is wrong with it, which callers turn into a 422, a dead letter or an ignored config value.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, StringConstraints, TypeAdapter, ValidationError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

# A string with at least one non-space character.
NonBlank = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
# Epoch seconds: a JSON number, never a string or a boolean.
EpochSeconds = Annotated[float, Field(strict=True)]


class Invalid(ValueError):
    """A value that breaks its contract; `field` names the culprit ("body" for the whole)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"'{field_name}' {message}")
        self.field = field_name
        self.message = message


def first_problem(exc: ValidationError) -> Invalid:
    """The first error of a pydantic ValidationError as an `Invalid`."""
    error: Any = exc.errors(include_url=False)[0]
    location = ".".join(str(part) for part in error["loc"]) or "body"
    if error["type"] == "missing":
        return Invalid(location, "is required")
    if error["type"] == "extra_forbidden":
        return Invalid(location, "is not a known field")
    if error["type"] == "value_error":  # our own validators' words, without pydantic's prefix
        return Invalid(location, str(error.get("ctx", {}).get("error") or error["msg"]))
    message = str(error["msg"])
    return Invalid(location, message[0].lower() + message[1:] if message else "is invalid")


def check(shape: TypeAdapter[T], data: Any) -> T:
    """`data` validated as `shape`; Invalid naming the first problem."""
    try:
        return shape.validate_python(data)
    except ValidationError as exc:
        raise first_problem(exc) from None


def check_model(model: type[M], data: Any) -> M:
    """`data` validated as `model`; Invalid naming the first problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise first_problem(exc) from None
