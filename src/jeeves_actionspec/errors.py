"""The one error of a declaration that cannot be used: where it is wrong, and why."""

from __future__ import annotations


class SpecError(ValueError):
    """A declaration breaks a rule; `path` names the field (`commands[0].format`)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message

    def under(self, prefix: str) -> SpecError:
        """The same problem, its path prefixed (`spec.` + `commands[0]`)."""
        if not prefix:
            return self
        joined = (
            f"{prefix}.{self.path}"
            if self.path and not self.path.startswith("[")
            else (f"{prefix}{self.path}")
        )
        return SpecError(joined, self.message)
