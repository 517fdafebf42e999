"""Pure rules of the dashboard: sessions and CSRF, Sign in with Slack checks, flag edits."""
