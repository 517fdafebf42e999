"""HTTP surface of the Slack emulator: the Web API, the control API and the chat page."""
