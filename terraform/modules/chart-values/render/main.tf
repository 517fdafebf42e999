# Renders chart-values for a dev and a prod environment, so that
# terraform/scripts/chart_values_check.py can check the result against the charts' own schemas
# and templates (`terraform plan` of this root needs no provider).

terraform {
  required_version = ">= 1.9.0"
}

module "dev" {
  source = "../"

  environment       = "dev"
  production        = false
  image_registry    = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/jeeves-dev"
  image_tag         = "0.1.0"
  slack_bot_user_id = "U0JEEVES1"
  etcd              = { size_gib = 4 }
}

module "prod" {
  source = "../"

  environment       = "prod"
  production        = true
  image_registry    = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/jeeves-prod"
  image_tag         = "0.1.0"
  slack_bot_user_id = "U0JEEVES1"
  replicas          = 2
  etcd              = { size_gib = 16 }
  gateway = {
    host            = "jeeves.example.com"
    certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0f6c5b1e-1111-2222-3333-444455556666"
  }
}

module "external_etcd" {
  source = "../"

  environment       = "staging"
  production        = false
  image_registry    = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/jeeves-staging"
  image_tag         = "0.1.0"
  slack_bot_user_id = "U0JEEVES1"
  etcd              = { mode = "external", endpoints = ["etcd-0.internal:2379", "etcd-1.internal:2379", "etcd-2.internal:2379"] }
}

output "scenarios" {
  description = "Platform and operator values per scenario."
  value = {
    for name, m in { dev = module.dev, prod = module.prod, external_etcd = module.external_etcd } :
    name => { platform = m.platform_values, operator = m.operator_values }
  }
}
