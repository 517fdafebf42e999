# mk/queue.mk — the PostgreSQL job queue (kit/queue.py, pgqueuer). Included by the top Makefile.

.PHONY: bench-queue

bench-queue: ## job queue saturation: enqueue and dequeue+complete jobs/s, PG CPU µs/job (~1.5 min)
	.venv/bin/python bench/queue/run.py
