variable "region" {
  description = "Region of the state bucket and lock table (any; usually the environments' region)."
  type        = string
}

variable "bucket_name" {
  description = "Globally unique name of the state bucket, e.g. jeeves-tfstate-<account id>."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "lock_table_name" {
  description = "Name of the DynamoDB lock table."
  type        = string
  default     = "jeeves-tfstate-lock"
}

variable "tags" {
  description = "Tags for the bucket, table and key."
  type        = map(string)
  default     = { Project = "jeeves", ManagedBy = "terraform" }
}
