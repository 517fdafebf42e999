"""strava: the Strava connection (`jeeves-strava`) — `login strava` sends a private link, the
OAuth callback stores the tokens (encrypted, by the data service), `strava` / `runs` sums up
the week's activities, and tokens of deleted connections are revoked at Strava."""
