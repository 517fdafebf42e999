# mk/terraform.mk — owns the offline checks of terraform/ (fmt, validate and test of the
# provider-free modules, the validation-rule mutants, chart values against the charts, checkov).
# Included by the top Makefile.

.PHONY: lint-terraform

lint-terraform: ## terraform fmt, validate + test of provider-free modules, every validation rule tested, chart values vs the charts' schemas, checkov
	@bash terraform/scripts/lint.sh
