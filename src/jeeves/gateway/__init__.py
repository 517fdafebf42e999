"""gateway: Slack ingress (Events API, slash commands, interactivity) onto the durable queue."""
