"""The echo action (`jeeves-echo`): replies with the text it got; the worked example of the SDK.

With `JEEVES_ECHO_FAULTS=1` it also serves `/_test/…` so pipeline tests can make it fail,
stall or defer on purpose (see `routes.py`).
"""
