"""What a JeevesAction declares besides its workload: command grammar, policy and schedule.

Pure functions and frozen dataclasses (standard library + croniter), shared by the dispatcher,
which parses messages, decides policy and fires schedules with them, and by the operator, which
validates a JeevesAction with the very same rules before registering it. It lives outside
`jeeves.kit` because the operator's image ships without the `jeeves` package: the operator's
wheel carries this package too (see operator/pyproject.toml), so both sides run one copy of the
code.

- `values`: parameter types (string, int, enum, user, channel, duration, time) and conversions;
- `grammar`: command formats (`deploy {service} to {env=staging}`), usage lines, JSON Schemas;
- `matching`: a message against an action's commands → typed params, or a specific complaint;
- `policy`: who may run an action, confirmation, approval;
- `schedule`: cron + time zone, due ticks and the one catch-up run after an outage;
- `declaration`: all of the above read from a registry entry (or a CRD spec), every problem
  named with its path.
"""

from jeeves_actionspec.errors import SpecError

__all__ = ["SpecError"]
