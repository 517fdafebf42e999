# mk/slack.mk — targets of the Slack emulator, the action SDK (jeeves.kit.action_app) and the
# echo action. Included by the top Makefile.

SLACK_EMULATOR_BIND ?= 127.0.0.1:8090
SLACK_GATEWAY_URL ?= http://127.0.0.1:8081

.PHONY: slack-emulator test-slack bench-slack

slack-emulator: ## run the Slack emulator alone (chat page on SLACK_EMULATOR_BIND, events to SLACK_GATEWAY_URL)
	JEEVES_BIND=$(SLACK_EMULATOR_BIND) JEEVES_EMULATOR_GATEWAY_URL=$(SLACK_GATEWAY_URL) \
	JEEVES_SLACK_SIGNING_SECRET=$${JEEVES_SLACK_SIGNING_SECRET:-dev-signing-secret} \
	JEEVES_SLACK_BOT_TOKEN=$${JEEVES_SLACK_BOT_TOKEN:-xoxb-dev-token} \
	  .venv/bin/jeeves-slack-emulator

test-slack: ## unit + integration tests of the Slack emulator (incl. headless Chromium), action SDK and echo
	.venv/bin/pytest tests/unit/emulators/test_slack_*.py tests/unit/actions/echo \
	  tests/integration/emulators tests/integration/actions/echo

bench-slack: ## Slack emulator calls/s and events/s, echo /v1/act: server CPU per request vs /healthz
	.venv/bin/python bench/slack_emulator/run.py
	.venv/bin/python bench/echo/run.py

.PHONY: test-socket test-strava strava-emulator

test-socket: ## Socket Mode and distributed-app tests: jeeves-socket, the emulator's Socket Mode and OAuth, installations (incl. e2e)
	.venv/bin/pytest tests/unit/socket_mode tests/unit/kit/test_slack_*.py tests/unit/kit/test_refreshing.py \
	  tests/unit/emulators/test_slack_workspaces.py tests/integration/socket_mode \
	  tests/integration/emulators/test_slack_socket_mode.py tests/integration/emulators/test_slack_oauth.py \
	  tests/integration/data/test_data_credentials.py tests/e2e/test_connections.py

test-strava: ## the Strava action and its emulator (unit + integration)
	.venv/bin/pytest tests/unit/actions/strava tests/integration/actions/strava

strava-emulator: ## run the Strava emulator alone on 127.0.0.1:8091
	JEEVES_BIND=127.0.0.1:8091 .venv/bin/jeeves-strava-emulator
