# Everything Jeeves-specific on AWS and in the cluster: ECR repositories for the images, the app
# secret in Secrets Manager, and (with install = true) the namespace, an encrypted gp3
# StorageClass, the Kubernetes Secrets the charts take as existingSecret, the data database, the
# AWS Load Balancer Controller for the gateway's Ingress, and the two charts through Helm.
#
# Secrets never enter the plan or state: they are read as ephemeral values from Secrets Manager
# and written to Kubernetes as write-only data. The chart values come from chart-values, the one
# place that knows the charts' keys.

locals {
  charts_dir     = coalesce(var.charts_dir, "${path.module}/../../../charts")
  registry       = "${data.aws_caller_identity.current.account_id}.dkr.ecr.${var.cluster.region}.amazonaws.com/${var.names.ecr_namespace}"
  install        = var.install ? 1 : 0
  use_dns        = var.gateway_host != null && var.route53_zone_id != null
  certificate    = local.use_dns ? aws_acm_certificate_validation.gateway[0].certificate_arn : var.certificate_arn
  database_url   = "postgresql://%s:%s@${var.database.address}:${var.database.port}/%s"
  namespace_name = var.install ? kubernetes_namespace_v1.this[0].metadata[0].name : var.namespace
  storage_class  = "gp3"
}

data "aws_caller_identity" "current" {}

module "values" {
  source = "../chart-values"

  environment       = var.environment
  production        = var.production
  image_registry    = local.registry
  image_tag         = var.image_tag
  namespace         = var.namespace
  slack_bot_user_id = var.slack_bot_user_id
  etcd = {
    mode          = var.etcd.mode
    size_gib      = var.etcd.size_gib
    endpoints     = var.etcd.endpoints
    storage_class = local.storage_class
  }
  gateway = {
    host            = var.gateway_host
    certificate_arn = var.gateway_host == null ? null : local.certificate
  }
  replicas     = var.replicas
  extra_values = var.extra_values
}

# ---------------------------------------------------------------------------------------------
# AWS: image repositories, the app secret, the gateway's certificate

module "key" {
  source = "../kms-key"

  description = "${var.names.ecr_namespace}: Jeeves images and app secret"
  alias       = "${var.names.ecr_namespace}-app"
  tags        = var.tags
}

resource "aws_ecr_repository" "images" {
  for_each = toset(module.values.images)

  name                 = "${var.names.ecr_namespace}/${each.key}"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = !var.production

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = module.key.arn
  }

  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "images" {
  for_each = aws_ecr_repository.images

  repository = each.value.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the 30 newest images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 30 }
      action       = { type = "expire" }
    }]
  })
}

# Its value (JSON, one key per JEEVES_* variable) is put by an operator, never by Terraform:
# see docs/aws.md. The keys module.values.app_secret_keys names must be present.
resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:Slack's signing secret and bot token are rotated in Slack, not by a Lambda; the operator then puts the new value and raises app_secret_revision.
  name                    = var.names.app_secret
  description             = "Jeeves ${var.environment}: Slack and application secrets (JSON of JEEVES_* variables)"
  kms_key_id              = module.key.arn
  recovery_window_in_days = var.production ? 30 : 7
  tags                    = var.tags
}

resource "aws_acm_certificate" "gateway" {
  count = local.use_dns ? 1 : 0

  domain_name       = var.gateway_host
  validation_method = "DNS"
  tags              = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "gateway_validation" {
  for_each = local.use_dns ? {
    for o in aws_acm_certificate.gateway[0].domain_validation_options : o.domain_name => o
  } : {}

  zone_id = var.route53_zone_id
  name    = each.value.resource_record_name
  type    = each.value.resource_record_type
  records = [each.value.resource_record_value]
  ttl     = 300
}

resource "aws_acm_certificate_validation" "gateway" {
  count = local.use_dns ? 1 : 0

  certificate_arn         = aws_acm_certificate.gateway[0].arn
  validation_record_fqdns = [for r in aws_route53_record.gateway_validation : r.fqdn]
}

# ---------------------------------------------------------------------------------------------
# Kubernetes (install = true)

resource "kubernetes_namespace_v1" "this" {
  count = local.install

  metadata {
    name = var.namespace
    labels = {
      "app.kubernetes.io/part-of"          = "jeeves"
      "pod-security.kubernetes.io/enforce" = "baseline"
      "pod-security.kubernetes.io/warn"    = "restricted"
      "pod-security.kubernetes.io/audit"   = "restricted"
    }
  }
}

# EBS volumes are zonal: WaitForFirstConsumer creates each where its pod is scheduled.
resource "kubernetes_storage_class_v1" "gp3" {
  count = local.install

  metadata {
    name = local.storage_class
  }
  storage_provisioner    = "ebs.csi.aws.com"
  reclaim_policy         = "Retain"
  volume_binding_mode    = "WaitForFirstConsumer"
  allow_volume_expansion = true
  parameters = {
    type      = "gp3"
    encrypted = "true"
    kmsKeyId  = var.cluster.volumes_kms_key_arn
  }
}

ephemeral "aws_secretsmanager_secret_version" "database" {
  count = local.install

  secret_id  = var.database.master_secret_arn
  version_id = var.database.master_secret_version_id
}

ephemeral "aws_secretsmanager_secret_version" "app" {
  count = local.install

  secret_id = aws_secretsmanager_secret.app.arn
}

locals {
  database_credentials = var.install ? jsondecode(ephemeral.aws_secretsmanager_secret_version.database[0].secret_string) : null
  app_secret           = var.install ? jsondecode(ephemeral.aws_secretsmanager_secret_version.app[0].secret_string) : null
}

resource "kubernetes_secret_v1" "database" {
  count = local.install

  metadata {
    name      = module.values.secrets.database.name
    namespace = local.namespace_name
    labels    = { "app.kubernetes.io/part-of" = "jeeves" }
  }
  data_wo = {
    (module.values.secrets.database.pipeline_key) = format(local.database_url,
      urlencode(local.database_credentials.username), urlencode(local.database_credentials.password),
    var.database.databases.pipeline)
    (module.values.secrets.database.data_key) = format(local.database_url,
      urlencode(local.database_credentials.username), urlencode(local.database_credentials.password),
    var.database.databases.data)
  }
  data_wo_revision = var.database.credentials_revision
}

# The charts' Slack and data-key Secrets, filled key by key from the app secret.
resource "kubernetes_secret_v1" "app" {
  for_each = var.install ? { slack = module.values.secrets.slack, data_key = module.values.secrets.data_key } : {}

  metadata {
    name      = each.value.name
    namespace = local.namespace_name
    labels    = { "app.kubernetes.io/part-of" = "jeeves" }
  }
  data_wo          = { for key, source in each.value.keys : key => local.app_secret[source] }
  data_wo_revision = var.app_secret_revision
}

# RDS creates the pipeline database; the data service's database is created here, once.
resource "kubernetes_job_v1" "create_data_database" {
  count = local.install

  metadata {
    name      = "jeeves-create-data-database"
    namespace = local.namespace_name
    labels    = { "app.kubernetes.io/part-of" = "jeeves" }
  }
  spec {
    # No TTL: a Job that deleted itself would be created again by every later apply.
    backoff_limit = 6
    template {
      metadata {
        labels = { "app.kubernetes.io/part-of" = "jeeves" }
      }
      spec {
        restart_policy                  = "OnFailure"
        automount_service_account_token = false
        security_context {
          run_as_non_root = true
          run_as_user     = 70 # the postgres user of the alpine image
          seccomp_profile {
            type = "RuntimeDefault"
          }
        }
        container {
          name  = "createdb"
          image = "public.ecr.aws/docker/library/postgres:17-alpine"
          command = ["sh", "-c", join(" ", [
            "psql \"$URL\" -tAc \"SELECT 1 FROM pg_database WHERE datname = '$DB'\" | grep -q 1",
            "|| psql \"$URL\" -c \"CREATE DATABASE \\\"$DB\\\"\"",
          ])]
          env {
            name = "URL"
            value_from {
              secret_key_ref {
                name = kubernetes_secret_v1.database[0].metadata[0].name
                key  = module.values.secrets.database.pipeline_key
              }
            }
          }
          env {
            name  = "DB"
            value = var.database.databases.data
          }
          env {
            name  = "PGSSLMODE"
            value = "require"
          }
          security_context {
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            capabilities {
              drop = ["ALL"]
            }
          }
          resources {
            requests = { cpu = "50m", memory = "32Mi" }
            limits   = { cpu = "200m", memory = "64Mi" }
          }
        }
      }
    }
  }
  wait_for_completion = true
  timeouts {
    create = "10m"
  }
}

resource "helm_release" "lb_controller" {
  count = var.install && var.gateway_host != null ? 1 : 0

  name       = "aws-load-balancer-controller"
  repository = "https://aws.github.io/eks-charts"
  chart      = "aws-load-balancer-controller"
  version    = var.lb_controller_chart_version
  namespace  = "kube-system"
  wait       = true
  values = [yamlencode({
    clusterName    = var.cluster.name
    region         = var.cluster.region
    vpcId          = var.cluster.vpc_id
    serviceAccount = { name = "aws-load-balancer-controller" }
  })]
}

resource "helm_release" "operator" {
  count = local.install

  name        = "jeeves-operator"
  chart       = "${local.charts_dir}/jeeves-operator"
  namespace   = local.namespace_name
  wait        = true
  timeout     = 600
  max_history = 10
  values      = [yamlencode(module.values.operator_values)]

  depends_on = [kubernetes_secret_v1.app]

  lifecycle {
    precondition {
      condition     = var.slack_bot_user_id != null
      error_message = "Set slack_bot_user_id (the bot's user id from the Slack app, docs/aws.md step 4) before install = true."
    }
  }
}

resource "helm_release" "platform" {
  count = local.install

  name        = "jeeves"
  chart       = "${local.charts_dir}/jeeves"
  namespace   = local.namespace_name
  wait        = true
  timeout     = 900
  max_history = 10
  values      = [yamlencode(module.values.platform_values)]

  depends_on = [
    helm_release.operator,
    helm_release.lb_controller,
    kubernetes_job_v1.create_data_database,
    kubernetes_secret_v1.app,
    kubernetes_storage_class_v1.gp3,
  ]
}
