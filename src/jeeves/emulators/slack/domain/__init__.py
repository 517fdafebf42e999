"""The Slack emulator's domain: wire formats, signing, recorded state and fault rules (no I/O)."""
