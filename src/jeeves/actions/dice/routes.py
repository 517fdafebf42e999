"""The handler of `/v1/act` for dice: parse, roll with the request id as seed, answer."""

from __future__ import annotations

from jeeves.actions.dice.domain import DiceError, describe, parse_dice, roll
from jeeves.kit.action_app import ActionError, ActionRequest, Later, Reply


async def act(request: ActionRequest) -> Reply | Later:
    """`roll 2d6` → `Reply(":game_die: 2d6: 3 + 5 = *8*")`; a bad roll is the user's 400."""
    try:
        dice = parse_dice(request.text)
    except DiceError as exc:
        raise ActionError(400, str(exc)) from None
    return Reply(text=describe(roll(dice, request.id)))
