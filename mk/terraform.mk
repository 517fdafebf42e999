# mk/terraform.mk — owns the offline checks of terraform/ (fmt, validate and test of the
# provider-free modules, the validation-rule mutants, checkov). Included by the top Makefile.

.PHONY: lint-terraform

lint-terraform: ## terraform fmt, validate + test of provider-free modules, every validation rule tested, checkov
	@bash terraform/scripts/lint.sh
