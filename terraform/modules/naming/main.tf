# Names and tags for one Jeeves environment, computed once so every module agrees on them.
# Provider-free: `terraform test` checks it offline.

locals {
  prefix        = "${var.project}-${var.environment}"
  is_production = var.environment == "prod"

  names = {
    vpc               = local.prefix
    cluster           = local.prefix
    database          = "${local.prefix}-postgres"
    database_secret   = "${var.project}/${var.environment}/database"
    app_secret        = "${var.project}/${var.environment}/app"
    kms_alias_prefix  = "alias/${local.prefix}"
    ecr_namespace     = local.prefix
    kubernetes_prefix = "/${var.project}/${var.environment}/"
  }

  # The module's own tags are merged last so extra_tags cannot override them.
  tags = merge(var.extra_tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })
}
