variable "name" {
  description = "RDS instance identifier and stem of the database's other names (naming module's names.database)."
  type        = string
}

variable "production" {
  description = "Whether this is production (naming module's is_production): database-plan then requires Multi-AZ, deletion protection and 7+ days of backups."
  type        = bool
}

variable "vpc_id" {
  description = "VPC the database lives in (network module)."
  type        = string
}

variable "db_subnet_group_name" {
  description = "RDS subnet group over the database subnets (network module)."
  type        = string
}

variable "client_security_group_ids" {
  description = "Security groups admitted to PostgreSQL (port 5432): the EKS nodes' group. Nothing else reaches the database (validated by database-plan)."
  type        = list(string)
}

variable "secret_name" {
  description = "Secrets Manager name of the master credentials, JSON {username, password} (naming module's names.database_secret)."
  type        = string
}

variable "credentials_revision" {
  description = "Revision of the master password. Raise it by one to generate a new password: RDS and the secret get it in the same apply, and the password never enters Terraform state (validated by database-plan)."
  type        = number
  default     = 1
}

variable "engine_version" {
  description = "PostgreSQL major (\"17\") or major.minor version, 15 or newer (validated by database-plan)."
  type        = string
  default     = "17"
}

variable "instance_class" {
  description = "RDS instance class, e.g. db.t4g.micro or db.m7g.large."
  type        = string
}

variable "allocated_storage_gib" {
  description = "Initial gp3 storage in GiB."
  type        = number
  default     = 20
}

variable "max_allocated_storage_gib" {
  description = "Storage autoscaling ceiling in GiB (0 = off)."
  type        = number
  default     = 100
}

variable "multi_az" {
  description = "Run a synchronous standby in a second zone."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Refuse to delete the instance until this is turned off."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery (1-35)."
  type        = number
  default     = 7
}

variable "master_username" {
  description = "Name of the master user."
  type        = string
  default     = "jeeves_admin"
}

variable "databases" {
  description = "Database names: pipeline (created by RDS) and data (created by the jeeves module)."
  type = object({
    pipeline = optional(string, "jeeves")
    data     = optional(string, "jeeves_data")
  })
  default = {}
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the PostgreSQL logs."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource (naming module's tags)."
  type        = map(string)
  default     = {}
}
