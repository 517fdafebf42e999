"""data: the data service owning users, facts, connections, activity and usage stats."""
