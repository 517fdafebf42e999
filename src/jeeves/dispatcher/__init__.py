"""dispatcher: queue worker that parses messages, routes them to actions and enqueues replies."""
