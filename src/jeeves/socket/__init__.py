"""socket: Slack ingress over Socket Mode (`jeeves-socket`), for clusters with no public URL.

It opens WebSocket connections to Slack (`apps.connections.open` with the app-level token),
stores each event, command and click exactly as the HTTP gateway does (the shared inbound log
and dedup, `jeeves.kit.slack`), and acknowledges each envelope only once it is stored.
"""
