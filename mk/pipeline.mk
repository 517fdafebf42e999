# mk/pipeline.mk — the conversation pipeline (issue 3): dispatcher, poster and the end-to-end
# acceptance suite. Included by the top Makefile.

PIPELINE_PYTEST ?= .venv/bin/pytest
PIPELINE_PY ?= .venv/bin/python

.PHONY: test-pipeline test-pipeline-unit test-pipeline-integration test-e2e bench-pipeline

test-pipeline-unit: ## pipeline unit tests: text extraction, routing, protocol, governor, Slack answers
	$(PIPELINE_PYTEST) -m unit tests/unit/dispatcher tests/unit/poster tests/unit/kit/test_bucketing.py

test-pipeline-integration: ## dispatcher and poster as real processes (PostgreSQL, Slack emulator)
	$(PIPELINE_PYTEST) -m integration tests/integration/dispatcher tests/integration/poster

test-e2e: ## the whole pipeline end to end through the Slack emulator (issue 3 acceptance, ~1-2 min)
	$(PIPELINE_PYTEST) -m e2e tests/e2e

test-pipeline: test-pipeline-unit test-pipeline-integration test-e2e ## every pipeline test

bench-pipeline: ## end-to-end events/s and reply p50/p99 at 50 and 100 events/s (loopback, ~1.5 min)
	$(PIPELINE_PY) bench/pipeline/run.py
