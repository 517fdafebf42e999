# The dashboard (jeeves-dashboard): its React frontend and its tests.
.PHONY: dashboard test-dashboard

dashboard: ## build the dashboard frontend (npm ci + vite build; skipped when unchanged)
	@bash src/jeeves/dashboard/web/build.sh

test-dashboard: dashboard ## dashboard tests: unit, backend integration, Chromium end to end
	$(PYTEST) tests/unit/dashboard tests/integration/dashboard tests/e2e/dashboard
