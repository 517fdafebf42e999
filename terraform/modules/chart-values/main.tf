# The values the Jeeves charts get on EKS, computed from the environment's settings. This is the
# one place that knows the charts' value keys: when a chart renames a key, change it here (and
# the assertion in tests/ that names it). Provider-free: `terraform test` checks it offline.

locals {
  # Every deployable X has the image, chart key and Deployment name jeeves-X (BRIEF contract).
  platform_services = ["gateway", "dispatcher", "poster", "data", "tokens", "dashboard"]
  actions           = ["echo", "memory", "weather"]
  images            = [for x in concat(local.platform_services, ["operator"], local.actions) : "jeeves-${x}"]

  # Keys of the app Secret (existingSecret): the JEEVES_* variables the services read.
  required_app_secret_keys = ["JEEVES_SLACK_SIGNING_SECRET", "JEEVES_SLACK_BOT_TOKEN", "JEEVES_DATA_ENCRYPTION_KEY"]

  ingress_annotations = var.gateway.host == null ? {} : {
    "alb.ingress.kubernetes.io/scheme"                   = "internet-facing"
    "alb.ingress.kubernetes.io/target-type"              = "ip"
    "alb.ingress.kubernetes.io/listen-ports"             = jsonencode([{ HTTPS = 443 }])
    "alb.ingress.kubernetes.io/certificate-arn"          = var.gateway.certificate_arn
    "alb.ingress.kubernetes.io/ssl-policy"               = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    "alb.ingress.kubernetes.io/healthcheck-path"         = "/healthz"
    "alb.ingress.kubernetes.io/load-balancer-attributes" = "routing.http.drop_invalid_header_fields.enabled=true"
  }

  computed_platform_values = merge(
    {
      env = var.environment
      image = {
        registry   = var.image_registry
        tag        = var.image_tag
        pullPolicy = "IfNotPresent"
      }
      existingSecret = var.app_secret_name
      postgresql = {
        enabled = false
        external = {
          existingSecret = var.database.secret_name
          pipelineUrlKey = var.database.pipeline_url_key
          dataUrlKey     = var.database.data_url_key
        }
      }
      # Indexed by mode rather than a conditional: the two shapes differ.
      etcd = {
        "in-chart" = {
          enabled  = true
          replicas = var.etcd.replicas
          persistence = {
            storageClass = var.etcd.storage_class
            size         = "${var.etcd.size_gib}Gi"
          }
        }
        external = {
          enabled   = false
          endpoints = join(",", var.etcd.endpoints)
        }
      }[var.etcd.mode]
      ingress = {
        enabled     = var.gateway.host != null
        className   = var.gateway.ingress_class
        host        = var.gateway.host
        annotations = local.ingress_annotations
      }
      emulators = { enabled = false }
    },
    { for x in local.platform_services : "jeeves-${x}" => { replicas = var.replicas } },
  )

  platform_values = merge(local.computed_platform_values, var.extra_values)

  operator_values = {
    env = var.environment
    image = {
      registry   = var.image_registry
      tag        = var.image_tag
      pullPolicy = "IfNotPresent"
    }
    etcd = var.etcd.mode == "external" ? { endpoints = join(",", var.etcd.endpoints) } : {}
  }
}
