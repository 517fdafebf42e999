variable "environment" {
  description = "Environment name: dev, staging or prod (validated by the naming module)."
  type        = string
}

variable "region" {
  description = "AWS region of the environment."
  type        = string
}

variable "extra_tags" {
  description = "Additional tags for every resource (e.g. CostCenter, Owner)."
  type        = map(string)
  default     = {}
}

variable "network" {
  description = "VPC settings: cidr, availability_zones (null: the region's first az_count), az_count, nat_gateway_mode (single or per_az), flow_log_retention_days."
  type = object({
    cidr                    = optional(string, "10.0.0.0/16")
    availability_zones      = optional(list(string))
    az_count                = optional(number, 3)
    nat_gateway_mode        = optional(string, "per_az")
    flow_log_retention_days = optional(number, 30)
  })
  default = {}
}

variable "cluster" {
  description = "EKS settings: kubernetes_version, node_groups, endpoint_public_access, endpoint_public_access_cidrs, log_types, log_retention_days, admin_principal_arns, deletion_protection."
  type = object({
    kubernetes_version = optional(string, "1.35")
    node_groups = map(object({
      instance_types = list(string)
      capacity_type  = optional(string, "ON_DEMAND")
      min_size       = number
      max_size       = number
      desired_size   = number
      disk_size_gib  = optional(number, 50)
      labels         = optional(map(string), {})
    }))
    endpoint_public_access       = optional(bool, true)
    endpoint_public_access_cidrs = optional(list(string), [])
    log_types                    = optional(list(string), ["api", "audit", "authenticator"])
    log_retention_days           = optional(number, 90)
    admin_principal_arns         = optional(list(string), [])
    deletion_protection          = optional(bool, false)
  })
}

variable "database" {
  description = "RDS settings: engine_version, instance_class, allocated_storage_gib, max_allocated_storage_gib, multi_az, deletion_protection, backup_retention_days, credentials_revision, log_retention_days."
  type = object({
    engine_version            = optional(string, "17")
    instance_class            = string
    allocated_storage_gib     = optional(number, 20)
    max_allocated_storage_gib = optional(number, 100)
    multi_az                  = optional(bool, false)
    deletion_protection       = optional(bool, true)
    backup_retention_days     = optional(number, 7)
    credentials_revision      = optional(number, 1)
    log_retention_days        = optional(number, 30)
  })
}

variable "jeeves" {
  description = "Jeeves settings: install, image_tag, slack_bot_user_id, replicas, etcd {mode, size_gib, endpoints}, gateway_host, route53_zone_id, certificate_arn, app_secret_revision, extra_values."
  type = object({
    install             = optional(bool, false)
    image_tag           = string
    slack_bot_user_id   = optional(string)
    replicas            = optional(number, 1)
    etcd                = optional(object({ mode = optional(string, "in-chart"), size_gib = optional(number, 8), endpoints = optional(list(string), []) }), {})
    gateway_host        = optional(string)
    route53_zone_id     = optional(string)
    certificate_arn     = optional(string)
    app_secret_revision = optional(number, 1)
    extra_values        = optional(any, {})
  })
}
