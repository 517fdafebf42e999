variable "region" {
  description = "AWS region of this environment."
  type        = string
}

variable "admin_cidrs" {
  description = "Networks allowed to reach the Kubernetes API's public endpoint (your office or VPN egress)."
  type        = list(string)
}

variable "admin_principal_arns" {
  description = "IAM roles or users that get cluster-admin besides the identity running Terraform."
  type        = list(string)
  default     = []
}

variable "image_tag" {
  description = "Version the images were pushed at (project.version of pyproject.toml)."
  type        = string
}

variable "slack_bot_user_id" {
  description = "The Slack bot's user id (U…, not a secret), from the Slack app (docs/aws.md, step 4); needed before install = true."
  type        = string
  default     = null
}

variable "install" {
  description = "Install Jeeves into the cluster (after the images are pushed and the app secret is filled)."
  type        = bool
  default     = false
}

variable "gateway_host" {
  description = "Public host name of the gateway, e.g. jeeves.example.com (null: no public endpoint)."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "Route 53 zone holding gateway_host, for the certificate's DNS validation."
  type        = string
  default     = null
}

variable "database_credentials_revision" {
  description = "Raise by one to rotate the database master password."
  type        = number
  default     = 1
}

variable "app_secret_revision" {
  description = "Raise by one after changing the app secret in Secrets Manager."
  type        = number
  default     = 1
}

variable "extra_tags" {
  description = "Additional tags for every resource."
  type        = map(string)
  default     = {}
}
