# mk/protocol.mk — the published action protocol (docs/action-protocol.schema.json), generated
# from the pydantic models in src/jeeves/kit/protocol.py. Included by the top Makefile.

.PHONY: protocol-schema

protocol-schema: ## regenerate docs/action-protocol.schema.json from the protocol's pydantic models
	$(PY) -m jeeves.kit.protocol > docs/action-protocol.schema.json
