variable "project" {
  description = "Project name, the first part of every resource name (lowercase letters, digits, inner hyphens; 3-16 characters)."
  type        = string
  default     = "jeeves"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}[a-z0-9]$", var.project))
    error_message = "project must be 3-16 characters: lowercase letters, digits and inner hyphens, starting with a letter (it prefixes IAM role names, which AWS caps at 38 characters)."
  }
}

variable "environment" {
  description = "Environment name (dev, staging or prod). It names the etcd prefix /jeeves/<env>/ and decides production safeguards."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of dev, staging, prod."
  }
}

variable "region" {
  description = "AWS region the environment lives in, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like an AWS region name, e.g. eu-west-1 or us-gov-west-1."
  }
}

variable "extra_tags" {
  description = "Additional tags for every resource (e.g. CostCenter, Owner). The module's own tags (Project, Environment, ManagedBy) win over these."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_tags) : !startswith(lower(k), "aws:")])
    error_message = "extra_tags keys must not start with \"aws:\" (the prefix is reserved by AWS)."
  }

  validation {
    condition     = alltrue([for k, v in var.extra_tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256])
    error_message = "extra_tags keys must be 1-128 characters and values at most 256 characters (AWS tag limits)."
  }

  validation {
    condition     = length(var.extra_tags) <= 40
    error_message = "extra_tags holds at most 40 tags: AWS allows 50 per resource and the modules add their own."
  }
}
