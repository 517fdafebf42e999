"""`make dev`: the whole Jeeves stack on loopback, with the Slack emulator to chat in.

`plan` decides what runs (pure); `supervisor` starts, watches and stops the processes;
`__main__` ties them to the terminal. Data is kept in `.dev/` between runs.
"""
