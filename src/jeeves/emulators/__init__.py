"""Local stand-ins for third parties (Slack, Open-Meteo) that speak their wire formats."""
