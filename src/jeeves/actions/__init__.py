"""Action services: each implements the action protocol (POST /v1/act)."""
