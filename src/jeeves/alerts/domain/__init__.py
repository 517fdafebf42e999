"""The alerts service's pure core: webhook payloads, incidents, routing, rendering, clicks."""
