"""The Strava emulator (`jeeves-strava-emulator`): Strava's OAuth and athlete activities on
loopback, for tests and `make dev`. Reference: docs/strava.md.

  GET  /oauth/authorize        the athlete approves at once: 302 to redirect_uri?code&state&scope
                               (`athlete=<id>` picks who, `deny=1` answers error=access_denied)
  POST /oauth/token            grant_type=authorization_code | refresh_token → tokens (+ athlete)
  POST /oauth/deauthorize      access_token → every token of that athlete revoked
  GET  /api/v3/athlete         the authenticated athlete
  GET  /api/v3/athlete/activities?before&after&page&per_page   SummaryActivity list, newest first
  GET  /_emulator/state        athletes, deauthorizations, refreshes (for tests)
  POST /_emulator/athletes     {"id", "firstname", "lastname"} adds an athlete
"""
