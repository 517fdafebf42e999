variable "environment" {
  description = "Environment name (JEEVES_ENV; the etcd prefix /jeeves/<env>/)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,30}$", var.environment))
    error_message = "environment must match the services' JEEVES_ENV rule: ^[a-z0-9][a-z0-9-]{0,30}$."
  }
}

variable "production" {
  description = "Whether this is production: it then requires at least 2 replicas of each stateless service."
  type        = bool
}

variable "image_registry" {
  description = "Registry and path the images live under, without the image name, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/jeeves-prod (images are <registry>/jeeves-X:<tag>)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._/-][a-z0-9]+)*)?$", var.image_registry))
    error_message = "image_registry must be a registry host with an optional path, lowercase, no trailing slash and no image name, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/jeeves-prod."
  }
}

variable "image_tag" {
  description = "Image tag every Jeeves image is deployed at (the project version, e.g. 0.1.0). \"latest\" is refused: the repositories are immutable and a rollout needs a new tag."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a valid OCI tag (letters, digits, _ . -; at most 128 characters)."
  }

  validation {
    condition     = var.image_tag != "latest"
    error_message = "image_tag must not be \"latest\": pin the version you pushed (e.g. 0.1.0)."
  }
}

variable "namespace" {
  description = "Kubernetes namespace the charts are installed in (the operator reaches the in-chart etcd at jeeves-etcd.<namespace>.svc)."
  type        = string
  default     = "jeeves"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace)) && length(var.namespace) <= 63
    error_message = "namespace must be a Kubernetes namespace name: lowercase letters, digits and inner hyphens, at most 63 characters."
  }
}

variable "slack_bot_user_id" {
  description = "The Slack bot's user id (U…), from the app's auth.test; not a secret. The chart requires it to install; null until the Slack app exists."
  type        = string
  default     = null

  validation {
    condition     = var.slack_bot_user_id == null || can(regex("^[UWB][A-Z0-9]{2,30}$", var.slack_bot_user_id))
    error_message = "slack_bot_user_id must be a Slack user id such as U0123ABCD (see docs/aws.md, step 4)."
  }
}

variable "etcd" {
  description = "etcd for the service registry and flags: \"in-chart\" (the chart's single-member etcd StatefulSet on a storage_class volume of size_gib) or \"external\" (endpoints, host:port, of an etcd you run)."
  type = object({
    mode          = optional(string, "in-chart")
    storage_class = optional(string, "gp3")
    size_gib      = optional(number, 8)
    endpoints     = optional(list(string), [])
  })
  default = {}

  validation {
    condition     = contains(["in-chart", "external"], var.etcd.mode)
    error_message = "etcd.mode must be \"in-chart\" or \"external\"."
  }

  validation {
    condition     = var.etcd.mode != "external" || (length(var.etcd.endpoints) > 0 && alltrue([for e in var.etcd.endpoints : can(regex("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[0-9]{1,5}$", e))]))
    error_message = "etcd.mode = \"external\" needs endpoints as host:port (JEEVES_ETCD_ENDPOINTS' form), e.g. etcd-0.example.internal:2379."
  }

  validation {
    condition     = var.etcd.mode != "in-chart" || length(var.etcd.endpoints) == 0
    error_message = "etcd.endpoints are only for etcd.mode = \"external\"; the in-chart etcd has a fixed address."
  }

  validation {
    condition     = var.etcd.size_gib >= 1 && var.etcd.size_gib <= 64
    error_message = "etcd.size_gib must be from 1 to 64 (etcd's own database limit is 8 GiB by default)."
  }
}

variable "gateway" {
  description = "The gateway's public HTTPS endpoint (what Slack calls): host name, ACM certificate ARN and ingress class. Leave host null for no Ingress (e.g. Socket Mode or port-forward only)."
  type = object({
    host            = optional(string)
    certificate_arn = optional(string)
    ingress_class   = optional(string, "alb")
  })
  default = {}

  validation {
    condition     = var.gateway.host == null || can(regex("^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\.)+[a-z]{2,}$", var.gateway.host))
    error_message = "gateway.host must be a lowercase DNS name such as jeeves.example.com."
  }

  validation {
    condition     = var.gateway.host == null || var.gateway.certificate_arn != null
    error_message = "gateway.host needs gateway.certificate_arn: Slack only calls HTTPS endpoints."
  }

  validation {
    condition     = var.gateway.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+$", var.gateway.certificate_arn))
    error_message = "gateway.certificate_arn must be an ACM certificate ARN."
  }
}

variable "replicas" {
  description = "Replicas of gateway, dispatcher, data and tokens; production needs at least 2. (The poster keeps the chart's default: its rate governor is per process.)"
  type        = number
  default     = 1

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 20 && floor(var.replicas) == var.replicas
    error_message = "replicas must be a whole number from 1 to 20."
  }

  validation {
    condition     = !var.production || var.replicas >= 2
    error_message = "Production runs at least 2 replicas of each stateless service."
  }
}

variable "extra_values" {
  description = "Values merged over the computed platform chart values at the top level (a key given here replaces the computed key whole), e.g. { networkPolicy = { gatewayFrom = [...] } }."
  type        = any
  default     = {}
}
