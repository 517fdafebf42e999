"""Understanding a weather request: which place (if any) and which day.

Pure functions. "weather" → (no place, today); "weather in São Paulo tomorrow" →
("São Paulo", tomorrow); "forecast for Springfield, Missouri" → ("Springfield, Missouri", today).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Day = Literal["today", "tomorrow"]
KEYWORDS = ("weather", "forecast")
MAX_PLACE_CHARS = 100

_MENTION = re.compile(r"<[@#!][^>]*>")
_LEAD = re.compile(
    r"^\s*(?:(?:what(?:'s| is)|how(?:'s| is))\s+(?:the\s+)?)?(?:weather|forecast)\b[\s,:]*",
    re.IGNORECASE,
)
_DAY = re.compile(r"\b(today|tonight|now|tomorrow)\b", re.IGNORECASE)
_PREPOSITION = re.compile(r"^(?:(?:in|for|at|of)\s+)+", re.IGNORECASE)
_TRAILING = re.compile(r"[\s?!.,;:]+$")


@dataclass(frozen=True)
class WeatherQuery:
    place: str | None  # as the user wrote it, e.g. "São Paulo" or "Springfield, Missouri"
    day: Day


def parse_query(text: str) -> WeatherQuery:
    """Extract the place and day from the text after the bot mention."""
    rest = _LEAD.sub("", _MENTION.sub(" ", text).strip(), count=1)
    day: Day = "tomorrow" if re.search(r"\btomorrow\b", rest, re.IGNORECASE) else "today"
    rest = _DAY.sub(" ", rest)
    rest = _TRAILING.sub("", " ".join(rest.split()))
    rest = _PREPOSITION.sub("", rest).strip()
    rest = _TRAILING.sub("", rest)
    place = rest[:MAX_PLACE_CHARS].strip() or None
    return WeatherQuery(place=place, day=day)


def split_place(place: str) -> tuple[str, str | None]:
    """ "Springfield, Missouri" → ("Springfield", "Missouri"); a bare name has no qualifier."""
    name, _, qualifier = place.partition(",")
    return name.strip(), (qualifier.strip() or None)
