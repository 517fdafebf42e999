# The chart values computed for EKS and the validation rules of chart-values. Each
# `expect_failures` run fails if its rule is removed (terraform/scripts/validation_mutants.py
# proves it for every rule). The key names asserted here are the charts' (values.yaml).

variables {
  environment       = "dev"
  production        = false
  image_registry    = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/jeeves-dev"
  image_tag         = "0.1.0"
  slack_bot_user_id = "U0JEEVES1"
}

run "dev_values" {
  command = plan

  assert {
    condition     = output.platform_values.image == { registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/jeeves-dev", tag = "0.1.0", pullPolicy = "IfNotPresent" }
    error_message = "images come from the registry at the pinned tag"
  }
  assert {
    condition     = output.platform_values.database == { existingSecret = "jeeves-database" } && output.platform_values["jeeves-postgres"].enabled == false
    error_message = "PostgreSQL is external (RDS), its URLs in the database Secret"
  }
  assert {
    condition     = output.platform_values["jeeves-etcd"] == { enabled = true, persistence = { enabled = true, storageClass = "gp3", size = "8Gi" } }
    error_message = "dev runs the in-chart etcd on a gp3 volume"
  }
  assert {
    condition     = output.platform_values.etcd.endpoints == "" && output.operator_values.etcd.endpoints == "jeeves-etcd.jeeves.svc:2379"
    error_message = "the platform finds its in-chart etcd itself; the operator is told where it is"
  }
  assert {
    condition     = output.platform_values.slack == { existingSecret = "jeeves-slack", botUserId = "U0JEEVES1" }
    error_message = "Slack secrets come from the existing Secret; the bot user id is a plain value"
  }
  assert {
    condition     = output.platform_values["jeeves-data"] == { replicas = 1, existingSecret = "jeeves-data-key" }
    error_message = "the data encryption key comes from the existing Secret"
  }
  assert {
    condition     = output.platform_values["jeeves-gateway"].ingress.enabled == false && output.platform_values["jeeves-gateway"].ingress.host == ""
    error_message = "no host, no Ingress"
  }
  assert {
    condition     = output.platform_values["jeeves-dispatcher"].replicas == 1 && output.platform_values["jeeves-tokens"].replicas == 1
    error_message = "each deployable's chart key is jeeves-X"
  }
  assert {
    condition     = !contains(keys(output.platform_values), "jeeves-poster")
    error_message = "the poster keeps the chart's replica count (its rate governor is per process)"
  }
  assert {
    condition     = contains(output.images, "jeeves-gateway") && contains(output.images, "jeeves-operator") && contains(output.images, "jeeves-etcd") && length(output.images) == 11
    error_message = "one image per deployable, named jeeves-X, and the in-chart etcd's"
  }
  assert {
    condition     = output.app_secret_keys == tolist(["data-encryption-key", "slack-bot-token", "slack-signing-secret"])
    error_message = "the app secret holds the Slack and data encryption secrets"
  }
  assert {
    condition     = output.secrets.slack.keys == { "signing-secret" = "slack-signing-secret", "bot-token" = "slack-bot-token" }
    error_message = "the chart's Slack Secret keys are filled from the app secret"
  }
  assert {
    condition     = output.secrets.database.pipeline_key == "url" && output.secrets.database.data_key == "data-url"
    error_message = "the chart's database Secret has keys url and data-url"
  }
}

run "production_with_public_gateway" {
  command = plan

  variables {
    environment = "prod"
    production  = true
    replicas    = 2
    namespace   = "jeeves-prod"
    etcd        = { size_gib = 16 }
    gateway = {
      host            = "jeeves.example.com"
      certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0f6c5b1e-1111-2222-3333-444455556666"
    }
  }

  assert {
    condition     = output.platform_values["jeeves-gateway"].ingress.enabled && output.platform_values["jeeves-gateway"].ingress.host == "jeeves.example.com" && output.platform_values["jeeves-gateway"].ingress.className == "alb"
    error_message = "a host turns the ALB Ingress on"
  }
  assert {
    condition     = output.platform_values["jeeves-gateway"].ingress.annotations["alb.ingress.kubernetes.io/certificate-arn"] == "arn:aws:acm:eu-west-1:123456789012:certificate/0f6c5b1e-1111-2222-3333-444455556666"
    error_message = "the ALB terminates TLS with the ACM certificate"
  }
  assert {
    condition     = output.platform_values["jeeves-gateway"].ingress.annotations["alb.ingress.kubernetes.io/listen-ports"] == "[{\"HTTPS\":443}]"
    error_message = "HTTPS only"
  }
  assert {
    condition     = output.platform_values["jeeves-gateway"].replicas == 2 && output.platform_values["jeeves-data"].replicas == 2
    error_message = "production runs two of each stateless service"
  }
  assert {
    condition     = output.operator_values.etcd.endpoints == "jeeves-etcd.jeeves-prod.svc:2379" && output.platform_values["jeeves-etcd"].persistence.size == "16Gi"
    error_message = "the operator finds the in-chart etcd in the release's namespace"
  }
}

run "external_etcd" {
  command = plan
  variables {
    etcd = { mode = "external", endpoints = ["etcd-0.internal:2379", "etcd-1.internal:2379"] }
  }
  assert {
    condition     = output.platform_values.etcd.endpoints == "etcd-0.internal:2379,etcd-1.internal:2379" && output.platform_values["jeeves-etcd"].enabled == false
    error_message = "external etcd: endpoints as JEEVES_ETCD_ENDPOINTS takes them, no in-chart etcd"
  }
  assert {
    condition     = output.operator_values.etcd.endpoints == "etcd-0.internal:2379,etcd-1.internal:2379"
    error_message = "the operator registers actions in the same etcd"
  }
}

run "extra_values_replace_top_level_keys" {
  command = plan
  variables {
    extra_values = { networkPolicy = { gatewayFrom = [] } }
  }
  assert {
    condition     = output.platform_values.networkPolicy.gatewayFrom == [] && output.platform_values.env == "dev"
    error_message = "extra_values add or override the key they name and leave the rest"
  }
}

run "rejects_latest_tag" {
  command = plan
  variables {
    image_tag = "latest"
  }
  expect_failures = [var.image_tag]
}

run "rejects_tag_with_build_metadata" {
  command = plan
  variables {
    image_tag = "0.1.0+build.7"
  }
  expect_failures = [var.image_tag]
}

run "rejects_image_name_in_registry" {
  command = plan
  variables {
    image_registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/jeeves-dev/"
  }
  expect_failures = [var.image_registry]
}

run "rejects_environment_services_would_refuse" {
  command = plan
  variables {
    environment = "Prod_1"
  }
  expect_failures = [var.environment]
}

run "rejects_namespace_kubernetes_refuses" {
  command = plan
  variables {
    namespace = "Jeeves"
  }
  expect_failures = [var.namespace]
}

run "rejects_bot_token_as_user_id" {
  command = plan
  variables {
    slack_bot_user_id = "xoxb-123"
  }
  expect_failures = [var.slack_bot_user_id]
}

run "rejects_unknown_etcd_mode" {
  command = plan
  variables {
    etcd = { mode = "operator" }
  }
  expect_failures = [var.etcd]
}

run "rejects_external_etcd_without_endpoints" {
  command = plan
  variables {
    etcd = { mode = "external" }
  }
  expect_failures = [var.etcd]
}

run "rejects_endpoints_as_urls" {
  command = plan
  variables {
    etcd = { mode = "external", endpoints = ["https://etcd-0.internal:2379"] }
  }
  expect_failures = [var.etcd]
}

run "rejects_endpoints_for_in_chart_etcd" {
  command = plan
  variables {
    etcd = { endpoints = ["etcd:2379"] }
  }
  expect_failures = [var.etcd]
}

run "rejects_oversized_etcd_volume" {
  command = plan
  variables {
    etcd = { size_gib = 100 }
  }
  expect_failures = [var.etcd]
}

run "rejects_host_without_certificate" {
  command = plan
  variables {
    gateway = { host = "jeeves.example.com" }
  }
  expect_failures = [var.gateway]
}

run "rejects_certificate_that_is_not_acm" {
  command = plan
  variables {
    gateway = { host = "jeeves.example.com", certificate_arn = "arn:aws:iam::123456789012:server-certificate/jeeves" }
  }
  expect_failures = [var.gateway]
}

run "rejects_host_with_capitals" {
  command = plan
  variables {
    gateway = {
      host            = "Jeeves.Example.com"
      certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0f6c5b1e-1111-2222-3333-444455556666"
    }
  }
  expect_failures = [var.gateway]
}

run "rejects_zero_replicas" {
  command = plan
  variables {
    replicas = 0
  }
  expect_failures = [var.replicas]
}

run "rejects_single_replica_in_production" {
  command = plan
  variables {
    environment = "prod"
    production  = true
  }
  expect_failures = [var.replicas]
}

run "bot_user_id_may_come_later" {
  command = plan
  variables {
    slack_bot_user_id = null
  }
  assert {
    condition     = output.platform_values.slack.botUserId == ""
    error_message = "without a bot user id yet, the value is empty (the jeeves module refuses to install then)"
  }
}
