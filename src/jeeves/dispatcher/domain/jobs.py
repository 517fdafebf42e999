"""Reading a `dispatch` job's payload: the click target of an interaction (pure).

The payload itself is validated by the kit (`jeeves.kit.jobs.parse_dispatch_job`, pydantic): a
payload that breaks the `DispatchJob` contract names its first bad field and is dead-lettered.
"""

from __future__ import annotations

from jeeves.kit.jobs import DispatchJob


def interaction_target(job: DispatchJob) -> tuple[str, str] | None:
    """(action name, value) of a button click whose action_id reads `<action>:<anything>`."""
    interaction = job.get("interaction") or {}
    action_id = interaction.get("action_id")
    if not isinstance(action_id, str) or ":" not in action_id:
        return None
    name = action_id.split(":", 1)[0]
    value = interaction.get("value")
    return (name, value if isinstance(value, str) else "") if name else None
