"""The dice action (`jeeves-dice`): `roll 2d6`, `roll d20`, `roll 3d6+2`.

The sample action of the real-cluster test and a second worked example of the action SDK. A
roll is drawn from a generator seeded by the request id, so a retried or replayed request (even
on another replica, or after a restart) shows the same numbers instead of rolling again.
"""
