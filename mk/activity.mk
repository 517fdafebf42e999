# mk/activity.mk — usage statistics recorded by the dispatcher in the data service.
# Included by the top Makefile. (Its tests run with test-pipeline-unit/-integration.)

.PHONY: bench-activity

bench-activity: ## cost of recording one activity per action call: dispatch p50/p99 and CPU/event, off vs on (~40 s)
	.venv/bin/python bench/activity/run.py
