"""memory action: remembers facts about a user (location, timezone, units, …) via data."""
