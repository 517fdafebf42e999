variable "environment" {
  description = "Environment name (JEEVES_ENV; the etcd prefix /jeeves/<env>/)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,30}$", var.environment))
    error_message = "environment must match the services' JEEVES_ENV rule: ^[a-z0-9][a-z0-9-]{0,30}$."
  }
}

variable "production" {
  description = "Whether this is production: it then requires at least 2 replicas per stateless service and a 3- or 5-member etcd."
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

variable "database" {
  description = "External PostgreSQL (RDS): the Kubernetes Secret holding the connection URLs and its keys. The URLs carry the password, so they only ever travel in that Secret."
  type = object({
    secret_name       = optional(string, "jeeves-database")
    pipeline_url_key  = optional(string, "database-url")
    data_url_key      = optional(string, "data-database-url")
    host              = string
    port              = optional(number, 5432)
    pipeline_database = optional(string, "jeeves")
    data_database     = optional(string, "jeeves_data")
  })

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", var.database.secret_name)) && length(var.database.secret_name) <= 253
    error_message = "database.secret_name must be a Kubernetes object name (lowercase DNS subdomain)."
  }

  validation {
    condition     = var.database.port >= 1 && var.database.port <= 65535
    error_message = "database.port must be a TCP port (1-65535)."
  }

  validation {
    condition     = var.database.pipeline_url_key != var.database.data_url_key
    error_message = "database.pipeline_url_key and data_url_key must differ."
  }
}

variable "app_secret_name" {
  description = "Name of the Kubernetes Secret with the Slack and application secrets (the charts' existingSecret); its keys are the JEEVES_* variable names."
  type        = string
  default     = "jeeves-app"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.app_secret_name)) && length(var.app_secret_name) <= 63
    error_message = "app_secret_name must be a lowercase Kubernetes name of at most 63 characters."
  }
}

variable "etcd" {
  description = "etcd for the service registry and flags: \"in-chart\" (a StatefulSet of replicas members on storage_class volumes of size_gib) or \"external\" (endpoints you run)."
  type = object({
    mode          = optional(string, "in-chart")
    replicas      = optional(number, 1)
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
    condition     = contains([1, 3, 5], var.etcd.replicas)
    error_message = "etcd.replicas must be 1, 3 or 5 (an odd member count; more than 5 only slows writes)."
  }

  validation {
    condition     = var.etcd.mode != "external" || (length(var.etcd.endpoints) > 0 && alltrue([for e in var.etcd.endpoints : can(regex("^https?://[a-z0-9.-]+:[0-9]{1,5}$", e))]))
    error_message = "etcd.mode = \"external\" needs endpoints like https://etcd-0.example.internal:2379."
  }

  validation {
    condition     = var.etcd.mode != "in-chart" || length(var.etcd.endpoints) == 0
    error_message = "etcd.endpoints are only for etcd.mode = \"external\"; the in-chart etcd finds its own."
  }

  validation {
    condition     = var.etcd.size_gib >= 1 && var.etcd.size_gib <= 64
    error_message = "etcd.size_gib must be from 1 to 64 (etcd's own database limit is 8 GiB by default)."
  }

  validation {
    condition     = !var.production || var.etcd.mode == "external" || var.etcd.replicas >= 3
    error_message = "Production runs a 3- or 5-member etcd so that losing one node or zone keeps quorum."
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
  description = "Replicas of each stateless platform service (gateway, dispatcher, poster, data, tokens, dashboard); production needs at least 2."
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
  description = "Values merged over the computed platform chart values at the top level (a key given here replaces the computed key whole)."
  type        = any
  default     = {}
}
