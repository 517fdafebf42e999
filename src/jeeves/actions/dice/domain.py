"""What dice does, pure: parse `NdS±M`, roll it with a generator seeded by the request id,
and word the reply. No I/O.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass

MAX_DICE = 100
MAX_SIDES = 1000
MAX_MODIFIER = 10_000
DEFAULT = "1d6"
USAGE = (
    "I roll dice written like `roll 2d6`, `roll d20` or `roll 3d6+2` "
    f"(up to {MAX_DICE} dice of 2 to {MAX_SIDES} sides)."
)

_NOTATION = re.compile(r"^(\d*)d(\d+)(?:([+-])(\d+))?$")


class DiceError(ValueError):
    """The text is not a roll we can make; the message is for the user."""


@dataclass(frozen=True)
class Dice:
    """`count` dice of `sides` sides, plus `modifier`."""

    count: int
    sides: int
    modifier: int = 0

    @property
    def notation(self) -> str:
        sign = f"{self.modifier:+d}" if self.modifier else ""
        return f"{self.count}d{self.sides}{sign}"


@dataclass(frozen=True)
class Roll:
    """One roll: the dice, each face shown, and the total (faces + modifier)."""

    dice: Dice
    faces: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.faces) + self.dice.modifier


def parse_dice(text: str) -> Dice:
    """`"2d6"`, `"d20"`, `"3D6 + 2"`, `""` (one six-sided die) → `Dice`; else `DiceError`."""
    compact = re.sub(r"\s+", "", text).lower() or DEFAULT
    match = _NOTATION.match(compact)
    if match is None:
        raise DiceError(USAGE)
    count_text, sides_text, sign, modifier_text = match.groups()
    count = int(count_text) if count_text else 1
    sides = int(sides_text)
    modifier = int(modifier_text or 0) * (-1 if sign == "-" else 1)
    if not 1 <= count <= MAX_DICE or not 2 <= sides <= MAX_SIDES:
        raise DiceError(USAGE)
    if abs(modifier) > MAX_MODIFIER:
        raise DiceError(f"A modifier of at most {MAX_MODIFIER} will do. {USAGE}")
    return Dice(count, sides, modifier)


def roll(dice: Dice, seed: str) -> Roll:
    """Roll `dice` with a generator seeded by `seed` (the request id): same seed, same faces."""
    digest = hashlib.sha256(seed.encode()).digest()
    generator = random.Random(int.from_bytes(digest, "big"))
    return Roll(dice, tuple(generator.randint(1, dice.sides) for _ in range(dice.count)))


def describe(result: Roll) -> str:
    """The reply text, e.g. `:game_die: 2d6+1: 3 + 5 + 1 = *9*` or `:game_die: 1d20: *17*`."""
    shown = " + ".join(str(face) for face in result.faces)
    modifier = result.dice.modifier
    if modifier:
        shown = f"{shown} {'+' if modifier > 0 else '-'} {abs(modifier)}"
    if len(result.faces) == 1 and not modifier:
        return f":game_die: {result.dice.notation}: *{result.total}*"
    return f":game_die: {result.dice.notation}: {shown} = *{result.total}*"
