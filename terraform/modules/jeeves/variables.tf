variable "environment" {
  description = "Environment name (JEEVES_ENV)."
  type        = string
}

variable "production" {
  description = "Whether this is production (naming module's is_production)."
  type        = bool
}

variable "install" {
  description = "Install into the cluster (namespace, StorageClass, Secrets, data database, Helm releases). Leave false on the first apply: push the images and fill the app secret first (docs/aws.md)."
  type        = bool
  default     = false
}

variable "names" {
  description = "Names from the naming module: ecr_namespace and app_secret are used."
  type = object({
    ecr_namespace = string
    app_secret    = string
  })
}

variable "cluster" {
  description = "The cluster module's outputs this module needs: name, vpc_id, region, volumes_kms_key_arn (the load balancer controller's role is bound by Pod Identity, so it needs no annotation)."
  type = object({
    name                = string
    vpc_id              = string
    region              = string
    volumes_kms_key_arn = string
  })
}

variable "database" {
  description = "The database module's outputs: address, port, databases {pipeline, data}, master_secret_arn, master_secret_version_id, and credentials_revision (rewrites the Kubernetes Secret when the password changes)."
  type = object({
    address                  = string
    port                     = number
    databases                = object({ pipeline = string, data = string })
    master_secret_arn        = string
    master_secret_version_id = string
    credentials_revision     = number
  })
}

variable "namespace" {
  description = "Kubernetes namespace for the Jeeves platform, operator and actions."
  type        = string
  default     = "jeeves"
}

variable "image_tag" {
  description = "Version every Jeeves image was pushed at (project.version of pyproject.toml, e.g. 0.1.0)."
  type        = string
}

variable "app_secret_revision" {
  description = "Revision of the app secret's content. Raise it by one after changing the secret in Secrets Manager to copy it into the cluster again."
  type        = number
  default     = 1
}

variable "slack_bot_user_id" {
  description = "The Slack bot's user id (U…; not a secret); required before install = true."
  type        = string
  default     = null
}

variable "etcd" {
  description = "etcd settings passed to chart-values: mode (in-chart or external), size_gib, endpoints (host:port)."
  type = object({
    mode      = optional(string, "in-chart")
    size_gib  = optional(number, 8)
    endpoints = optional(list(string), [])
  })
  default = {}
}

variable "replicas" {
  description = "Replicas of each stateless platform service."
  type        = number
  default     = 1
}

variable "gateway_host" {
  description = "Public host name of the gateway (what the Slack app calls), e.g. jeeves.example.com; null for no public endpoint."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone that holds gateway_host: the ACM certificate is validated through it. Null: bring your own certificate in certificate_arn."
  type        = string
  default     = null
}

variable "certificate_arn" {
  description = "ACM certificate for gateway_host when route53_zone_id is null (validated elsewhere)."
  type        = string
  default     = null
}

variable "charts_dir" {
  description = "Directory holding the jeeves and jeeves-operator charts (default: this repository's charts/)."
  type        = string
  default     = null
}

variable "lb_controller_chart_version" {
  description = "Version of the aws-load-balancer-controller chart (eks-charts) serving the gateway's Ingress."
  type        = string
  default     = "3.5.0"
}

variable "extra_values" {
  description = "Values merged over the computed platform chart values at the top level."
  type        = any
  default     = {}
}

variable "tags" {
  description = "Tags for every AWS resource (naming module's tags)."
  type        = map(string)
  default     = {}
}
