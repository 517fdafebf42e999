"""The alerts service (`jeeves-alerts`): Alertmanager's alerts in Slack, delivered by Jeeves.

Owns the tables `alert_notifications`, `alert_incidents` and `alert_audit` (in the pipeline's
PostgreSQL, beside the queue it feeds). Alertmanager POSTs each notification to its webhook
(`routes`); the notification is stored and merged into its alert group's incident
(`domain.incidents`), and when the incident's message must change, a versioned `reply` job for
the poster is queued in the same transaction: each alert group is ONE Slack message, posted
once and edited in place (chat.update) as alerts fire, resolve, are acknowledged or silenced;
the poster's governor, retries and outbound log apply, so a Slack outage delays messages and
loses none. The service is also a Jeeves action named `alerts`: the message's **Silence 1h**
and **Acknowledge** buttons come back through gateway → dispatcher (action ids `alerts:…`),
create a real silence through Alertmanager's v2 API or record the acknowledgement, answer in
the message's thread and keep an audit of who did what. See docs/monitoring.md.
"""
