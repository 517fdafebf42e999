# The values the Jeeves charts get on EKS, computed from the environment's settings. This is the
# one place that knows the charts' value keys and the names and keys of the Secrets they take
# (charts/jeeves and charts/jeeves-operator, values.yaml): when a chart renames a key, change it
# here and in the test that names it. Provider-free: `terraform test` checks it offline, and
# terraform/scripts/chart_values_check.py validates the result against the charts' schemas.

locals {
  # Every deployable X has the image, chart key and Deployment name jeeves-X (BRIEF contract).
  scaled_services = ["gateway", "dispatcher", "data", "tokens"]
  images = [for x in ["gateway", "dispatcher", "poster", "data", "tokens", "dashboard", "operator", "echo", "memory", "weather", "etcd"] :
  "jeeves-${x}"]

  # Kubernetes Secrets the charts take as existingSecret: their names and keys, and which key of
  # the Secrets Manager app secret (JSON) fills each key.
  secrets = {
    slack = {
      name = "jeeves-slack"
      keys = { "signing-secret" = "slack-signing-secret", "bot-token" = "slack-bot-token" }
    }
    data_key = {
      name = "jeeves-data-key"
      keys = { "encryption-key" = "data-encryption-key" }
    }
    database = {
      name         = "jeeves-database"
      pipeline_key = "url"
      data_key     = "data-url"
    }
  }
  app_secret_keys = sort(concat(values(local.secrets.slack.keys), values(local.secrets.data_key.keys)))

  etcd_endpoints = var.etcd.mode == "external" ? join(",", var.etcd.endpoints) : "jeeves-etcd.${var.namespace}.svc:2379"

  ingress_annotations = var.gateway.host == null ? {} : {
    "alb.ingress.kubernetes.io/scheme"                   = "internet-facing"
    "alb.ingress.kubernetes.io/target-type"              = "ip"
    "alb.ingress.kubernetes.io/listen-ports"             = jsonencode([{ HTTPS = 443 }])
    "alb.ingress.kubernetes.io/certificate-arn"          = var.gateway.certificate_arn
    "alb.ingress.kubernetes.io/ssl-policy"               = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    "alb.ingress.kubernetes.io/healthcheck-path"         = "/healthz"
    "alb.ingress.kubernetes.io/load-balancer-attributes" = "routing.http.drop_invalid_header_fields.enabled=true"
  }

  image = {
    registry   = var.image_registry
    tag        = var.image_tag
    pullPolicy = "IfNotPresent"
  }

  computed_platform_values = merge(
    { for x in local.scaled_services : "jeeves-${x}" => { replicas = var.replicas } },
    {
      env      = var.environment
      image    = local.image
      slack    = { existingSecret = local.secrets.slack.name, botUserId = var.slack_bot_user_id == null ? "" : var.slack_bot_user_id }
      database = { existingSecret = local.secrets.database.name }
      # The chart reads etcd.endpoints only for an external etcd; its own etcd it finds itself.
      etcd = { endpoints = var.etcd.mode == "external" ? local.etcd_endpoints : "" }
      "jeeves-etcd" = {
        enabled     = var.etcd.mode == "in-chart"
        persistence = { enabled = true, storageClass = var.etcd.storage_class, size = "${var.etcd.size_gib}Gi" }
      }
      "jeeves-postgres" = { enabled = false }
      "jeeves-data"     = { replicas = var.replicas, existingSecret = local.secrets.data_key.name }
      "jeeves-gateway" = {
        replicas = var.replicas
        ingress = {
          enabled       = var.gateway.host != null
          className     = var.gateway.ingress_class
          host          = var.gateway.host == null ? "" : var.gateway.host
          annotations   = local.ingress_annotations
          tlsSecretName = "" # the ALB terminates TLS with the ACM certificate
        }
      }
    },
  )

  platform_values = merge(local.computed_platform_values, var.extra_values)

  operator_values = {
    env   = var.environment
    image = local.image
    etcd  = { endpoints = local.etcd_endpoints }
  }
}
