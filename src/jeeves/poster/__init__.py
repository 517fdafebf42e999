"""poster: queue worker posting replies to Slack under a rate governor; POST /v1/messages."""
