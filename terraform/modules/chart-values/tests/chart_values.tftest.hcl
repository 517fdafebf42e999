# The chart values computed for EKS and the validation rules of chart-values. Each
# `expect_failures` run fails if its rule is removed (the plan then succeeds where it must not).

variables {
  environment    = "dev"
  production     = false
  image_registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/jeeves-dev"
  image_tag      = "0.1.0"
  database       = { host = "jeeves-dev-postgres.abc.eu-west-1.rds.amazonaws.com" }
}

run "dev_values" {
  command = plan

  assert {
    condition     = output.platform_values.image == { registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/jeeves-dev", tag = "0.1.0", pullPolicy = "IfNotPresent" }
    error_message = "images come from the registry at the pinned tag"
  }
  assert {
    condition     = output.platform_values.postgresql.enabled == false && output.platform_values.postgresql.external.existingSecret == "jeeves-database"
    error_message = "PostgreSQL is external (RDS), its URLs in the database Secret"
  }
  assert {
    condition     = output.platform_values.etcd.enabled && output.platform_values.etcd.replicas == 1 && output.platform_values.etcd.persistence == { storageClass = "gp3", size = "8Gi" }
    error_message = "dev runs a one-member in-chart etcd on gp3"
  }
  assert {
    condition     = output.platform_values.existingSecret == "jeeves-app"
    error_message = "Slack and app secrets come from the existing Secret"
  }
  assert {
    condition     = output.platform_values.ingress.enabled == false && length(output.platform_values.ingress.annotations) == 0
    error_message = "no host, no Ingress"
  }
  assert {
    condition     = output.platform_values["jeeves-gateway"].replicas == 1 && output.platform_values["jeeves-dispatcher"].replicas == 1
    error_message = "each deployable's chart key is jeeves-X"
  }
  assert {
    condition     = output.platform_values.emulators.enabled == false
    error_message = "no emulators on AWS"
  }
  assert {
    condition     = contains(output.images, "jeeves-gateway") && contains(output.images, "jeeves-operator") && contains(output.images, "jeeves-weather") && length(output.images) == 10
    error_message = "one image per deployable, named jeeves-X"
  }
}

run "production_with_public_gateway" {
  command = plan

  variables {
    environment = "prod"
    production  = true
    replicas    = 2
    etcd        = { replicas = 3, size_gib = 16 }
    gateway = {
      host            = "jeeves.example.com"
      certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/0f6c5b1e-1111-2222-3333-444455556666"
    }
  }

  assert {
    condition     = output.platform_values.ingress.enabled && output.platform_values.ingress.host == "jeeves.example.com" && output.platform_values.ingress.className == "alb"
    error_message = "a host turns the ALB Ingress on"
  }
  assert {
    condition     = output.platform_values.ingress.annotations["alb.ingress.kubernetes.io/certificate-arn"] == "arn:aws:acm:eu-west-1:123456789012:certificate/0f6c5b1e-1111-2222-3333-444455556666"
    error_message = "the ALB terminates TLS with the ACM certificate"
  }
  assert {
    condition     = output.platform_values.ingress.annotations["alb.ingress.kubernetes.io/listen-ports"] == "[{\"HTTPS\":443}]"
    error_message = "HTTPS only"
  }
  assert {
    condition     = output.platform_values.etcd.replicas == 3 && output.platform_values.etcd.persistence.size == "16Gi"
    error_message = "production etcd has three members"
  }
}

run "external_etcd" {
  command = plan
  variables {
    etcd = { mode = "external", endpoints = ["https://etcd-0.internal:2379", "https://etcd-1.internal:2379"] }
  }
  assert {
    condition     = output.platform_values.etcd == { enabled = false, endpoints = "https://etcd-0.internal:2379,https://etcd-1.internal:2379" }
    error_message = "external etcd: endpoints as JEEVES_ETCD_ENDPOINTS takes them"
  }
  assert {
    condition     = output.operator_values.etcd.endpoints == "https://etcd-0.internal:2379,https://etcd-1.internal:2379"
    error_message = "the operator registers actions in the same etcd"
  }
}

run "extra_values_replace_top_level_keys" {
  command = plan
  variables {
    extra_values = { emulators = { enabled = true } }
  }
  assert {
    condition     = output.platform_values.emulators.enabled == true && output.platform_values.env == "dev"
    error_message = "extra_values override the key they name and leave the rest"
  }
}

run "rejects_latest_tag" {
  command = plan
  variables {
    image_tag = "latest"
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

run "rejects_even_etcd_cluster" {
  command = plan
  variables {
    etcd = { replicas = 2 }
  }
  expect_failures = [var.etcd]
}

run "rejects_single_etcd_in_production" {
  command = plan
  variables {
    environment = "prod"
    production  = true
    replicas    = 2
    etcd        = { replicas = 1 }
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

run "rejects_endpoints_for_in_chart_etcd" {
  command = plan
  variables {
    etcd = { endpoints = ["http://etcd:2379"] }
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

run "rejects_single_replica_in_production" {
  command = plan
  variables {
    environment = "prod"
    production  = true
    etcd        = { replicas = 3 }
  }
  expect_failures = [var.replicas]
}

run "rejects_environment_services_would_refuse" {
  command = plan
  variables {
    environment = "Prod_1"
  }
  expect_failures = [var.environment]
}

run "rejects_same_key_for_both_urls" {
  command = plan
  variables {
    database = { host = "db.internal", pipeline_url_key = "url", data_url_key = "url" }
  }
  expect_failures = [var.database]
}

run "rejects_tag_with_build_metadata" {
  command = plan
  variables {
    image_tag = "0.1.0+build.7"
  }
  expect_failures = [var.image_tag]
}

run "rejects_database_secret_name_kubernetes_refuses" {
  command = plan
  variables {
    database = { host = "db.internal", secret_name = "Jeeves_DB" }
  }
  expect_failures = [var.database]
}

run "rejects_port_out_of_range" {
  command = plan
  variables {
    database = { host = "db.internal", port = 70000 }
  }
  expect_failures = [var.database]
}

run "rejects_app_secret_name_kubernetes_refuses" {
  command = plan
  variables {
    app_secret_name = "Jeeves"
  }
  expect_failures = [var.app_secret_name]
}

run "rejects_unknown_etcd_mode" {
  command = plan
  variables {
    etcd = { mode = "operator" }
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
