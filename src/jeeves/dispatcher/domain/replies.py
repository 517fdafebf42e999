"""The words the dispatcher says itself: help, login, unknown commands and action refusals.

Help is generated from the registry snapshot (keyword, description, usage; sorted), so a new
action appears in it the moment it is registered; `help <keyword>` shows an action's commands
with their parameters, who may run it and when it runs by itself, all from its declaration. Pure
functions returning Slack mrkdwn text; every word from a user or a registration is escaped (the
kit's `escape_mrkdwn`), so a user's `<!channel>` cannot ping anyone and a usage like `echo
<text>` is not read as a link.
"""

from __future__ import annotations

from collections.abc import Mapping

from jeeves.kit.action_app import escape_mrkdwn as escape
from jeeves.kit.actions import ActionSpec
from jeeves_actionspec.grammar import Command, describe_param
from jeeves_actionspec.policy import describe as describe_policy

GREETING = "Hi! Say `help` to see what I can do."
LOGIN_NOT_AVAILABLE = (
    "Connecting your other accounts is not available yet — it is coming soon. "
    "Say `help` to see what I can do today."
)
DEAD_LETTER_NOTICE = (
    "Sorry, I could not answer this message: something I rely on kept failing. It is kept as "
    "a failed message, and an admin can replay it once that is fixed — you will get the "
    "answer then."
)
LOGIN_PREFIX = "login "  # an action keyword `login <service>` makes that service connectable
_MAX_ACTION_MESSAGE = 300


def _primary(spec: ActionSpec) -> str:
    return spec.keywords[0] if spec.keywords else spec.name


def _describe(spec: ActionSpec) -> str:
    line = f"• *{escape(_primary(spec))}*"
    others = [escape(k) for k in spec.keywords[1:]]
    if others:
        line += " (also: " + ", ".join(others) + ")"
    if spec.description:
        line += f" — {escape(spec.description)}"
    usage = spec.usage or (
        spec.declaration.commands[0].usage() if spec.declaration.commands else ""
    )
    if usage:
        line += f" · usage: `{escape(usage)}`"
    if not spec.declaration.policy.open_to_all:
        line += " _(restricted)_"
    if not spec.enabled:
        line += " _(turned off right now)_"
    return line


def _find(actions: Mapping[str, ActionSpec], topic: str) -> ActionSpec | None:
    wanted = " ".join(topic.lower().split())
    for spec in actions.values():
        phrases = {" ".join(c.phrase) for c in spec.declaration.commands}
        if wanted == spec.name.lower() or wanted in spec.keywords or wanted in phrases:
            return spec
    return None


def command_help(command: Command) -> list[str]:
    """`• `deploy <service> [to <env>]` — what it does`, then one line per parameter."""
    line = f"• `{escape(command.usage())}`"
    if command.description:
        line += f" — {escape(command.description)}"
    return [line] + [f"    {escape(describe_param(p))}" for p in command.params]


def _details(spec: ActionSpec) -> str:
    """`help <keyword>`: the action's line, its commands, policy and schedule."""
    lines = [_describe(spec).removeprefix("• ")]
    for command in spec.declaration.commands:
        lines += command_help(command)
    policy = describe_policy(spec.declaration.policy)
    if policy:
        lines.append(f"Who may run it: {policy}")  # ids only: rendered as mentions by Slack
    schedule = spec.declaration.schedule
    if schedule is not None:
        lines.append(
            f"Runs by itself: `{escape(schedule.cron)}` ({escape(schedule.timezone)}) "
            f"in <#{schedule.channel}>"
        )
    return "\n".join(lines)


def bad_call_text(spec: ActionSpec, command: Command, problem: str) -> str:
    """A message that starts a command but breaks it: the problem, then how to type it."""
    lines = [f"Sorry, {escape(problem)}. Usage:", *command_help(command)]
    others = [c for c in spec.declaration.commands if c.phrase == command.phrase and c != command]
    for other in others:
        lines += command_help(other)
    return "\n".join(lines)


DASHBOARD_FLAG = "help-dashboard-link"  # feature flag: help points at the dashboard


def dashboard_line(url: str) -> str:
    where = f"<{url}|the Jeeves dashboard>" if url else "the Jeeves dashboard"
    return f"• *dashboard* — see and change what I remember about you in {where}"


def help_text(
    actions: Mapping[str, ActionSpec], topic: str = "", dashboard: str | None = None
) -> str:
    """Everything Jeeves can do; with a topic naming an action, just that action.

    `dashboard` (a URL, or '' for no link) adds a line pointing at the dashboard (when the
    `help-dashboard-link` flag is on for the asking user)."""
    if topic:
        spec = _find(actions, topic)
        if spec is not None:
            return _details(spec)
    specs = sorted(actions.values(), key=lambda s: (_primary(s), s.name))
    lines = ["Here is what I can do:"]
    lines += [_describe(spec) for spec in specs]
    lines.append("• *help* — this list (`help <keyword>` for one action)")
    services = connectable(actions)
    if services:
        names = ", ".join(f"`login {escape(s)}`" for s in services)
        lines.append(f"• *login* — connect your other accounts: {names}")
    else:
        lines.append("• *login* — connect your other accounts (not available yet)")
    if dashboard is not None:
        lines.append(dashboard_line(dashboard))
    return "\n".join(lines)


def connectable(actions: Mapping[str, ActionSpec]) -> list[str]:
    """Services a user can connect: those of enabled actions with a `login <service>` keyword
    (the action handles `login <service>` itself, answering with a private link)."""
    found = {
        " ".join(k.lower().split())[len(LOGIN_PREFIX) :]
        for spec in actions.values()
        if spec.enabled
        for k in spec.keywords
        if " ".join(k.lower().split()).startswith(LOGIN_PREFIX)
    }
    return sorted(s for s in found if s)


def login_text(actions: Mapping[str, ActionSpec], asked: str) -> str:
    """`login` alone, or `login <something no action connects>`."""
    services = connectable(actions)
    if not services:
        return LOGIN_NOT_AVAILABLE
    choices = ", ".join(f"`login {escape(s)}`" for s in services)
    if asked:
        return f"I can't connect “{escape(asked)}”. I can connect: {choices}."
    return f"I can connect your other accounts: {choices}. I'll send you a private link."


def unknown_text(word: str, suggestion: str | None) -> str:
    opening = f"Sorry, I don't know how to “{escape(word)}”."
    if suggestion:
        return (
            f"{opening} Did you mean `{escape(suggestion)}`? Say `help` to see everything I can do."
        )
    return f"{opening} Say `help` to see what I can do."


def disabled_text(keyword: str) -> str:
    return f"Sorry, `{escape(keyword)}` is turned off right now. Please try again later."


def rejected_text(spec: ActionSpec, status: int, message: str | None) -> str:
    """What the user reads when an action refuses a request (4xx)."""
    keyword = escape(_primary(spec))
    if message:
        return f"`{keyword}` could not do that: {escape(message[:_MAX_ACTION_MESSAGE])}"
    if status in (401, 403):
        return f"`{keyword}` refused the request (not authorised). An admin has been told."
    if status in (400, 422):
        usage = f" Usage: `{escape(spec.usage)}`" if spec.usage else ""
        return f"`{keyword}` did not understand that.{usage}"
    return f"`{keyword}` could not do that (it answered {status})."


def invalid_reply_text(spec: ActionSpec) -> str:
    return f"`{escape(_primary(spec))}` answered something I could not read. An admin can see why."
