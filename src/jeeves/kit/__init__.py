"""The service kit: settings, logging, metrics, health, errors, HTTP client and serving.

Every deployable in `jeeves` is built on this package; nothing here imports a service.
"""
