"""The dashboard (`jeeves-dashboard`): a Quart backend serving the React frontend and `/api/`.

It owns only sessions (two tables in its PostgreSQL: `dashboard_sessions`,
`dashboard_logins`). People sign in with Slack (OpenID Connect); admins (Slack user ids from
`JEEVES_DASHBOARD_ADMINS`) get the admin pages. Everything else is asked of the other services
over HTTP with the dashboard's own client-credentials token (data, dispatcher, poster) or read
and written in etcd through the kit (actions, flags). See docs/dashboard.md.

Layers: `main` → `app` → `routes` → `domain` (pure rules: sessions, CSRF, OpenID checks, flag
edits); `store` (session SQL), `backends` (HTTP and etcd clients) and `web` (static files) are
the I/O edges the routes use.
"""
