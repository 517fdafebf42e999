variable "engine_version" {
  description = "PostgreSQL version for RDS: a major (\"17\", RDS picks the current minor and keeps it patched) or major.minor (\"17.6\"). 15 or newer."
  type        = string
  default     = "17"

  validation {
    condition     = can(regex("^[0-9]{2}(\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be a PostgreSQL major or major.minor version, e.g. \"17\" or \"16.9\"."
  }

  validation {
    condition     = !can(regex("^[0-9]{2}(\\.[0-9]+)?$", var.engine_version)) || try(tonumber(split(".", var.engine_version)[0]) >= 15, false)
    error_message = "engine_version must be PostgreSQL 15 or newer (the version Jeeves is tested with)."
  }
}

variable "instance_class" {
  description = "RDS instance class, e.g. db.t4g.micro (dev) or db.m7g.large (prod). Graviton classes are fine here: RDS runs its own PostgreSQL build."
  type        = string

  validation {
    condition     = can(regex("^db\\.[a-z0-9-]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must be an RDS instance class such as db.t4g.micro or db.m7g.large."
  }
}

variable "allocated_storage_gib" {
  description = "Initial gp3 storage in GiB (20-65536)."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage_gib >= 20 && var.allocated_storage_gib <= 65536
    error_message = "allocated_storage_gib must be from 20 to 65536."
  }
}

variable "max_allocated_storage_gib" {
  description = "Upper bound for storage autoscaling in GiB; 0 turns autoscaling off. Must exceed allocated_storage_gib when set."
  type        = number
  default     = 100

  validation {
    condition     = var.max_allocated_storage_gib == 0 || (var.max_allocated_storage_gib > var.allocated_storage_gib && var.max_allocated_storage_gib <= 65536)
    error_message = "max_allocated_storage_gib must be 0 (no autoscaling) or above allocated_storage_gib and at most 65536."
  }
}

variable "production" {
  description = "Whether this is a production environment (naming module's is_production): it then requires Multi-AZ, deletion protection and at least 7 days of backups."
  type        = bool
}

variable "multi_az" {
  description = "Run a synchronous standby in a second zone (doubles the instance price)."
  type        = bool
  default     = false

  validation {
    condition     = !var.production || var.multi_az
    error_message = "A production database must be Multi-AZ (multi_az = true)."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance until this is turned off (see docs/aws.md, tear-down)."
  type        = bool
  default     = true

  validation {
    condition     = !var.production || var.deletion_protection
    error_message = "A production database must have deletion_protection = true."
  }
}

variable "backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery (1-35)."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35 && floor(var.backup_retention_days) == var.backup_retention_days
    error_message = "backup_retention_days must be a whole number from 1 to 35 (0 would turn backups off)."
  }

  validation {
    condition     = !var.production || var.backup_retention_days >= 7
    error_message = "A production database keeps at least 7 days of backups."
  }
}

variable "master_username" {
  description = "Name of the RDS master user (its password is generated into Secrets Manager, never into Terraform state)."
  type        = string
  default     = "jeeves_admin"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.master_username)) && !contains(["postgres", "rdsadmin", "rds_superuser", "admin", "root"], var.master_username)
    error_message = "master_username must be a lowercase PostgreSQL identifier (letter first, at most 63 characters) and not a reserved name (postgres, rdsadmin, rds_superuser, admin, root)."
  }
}

variable "databases" {
  description = "Database names: pipeline (gateway, dispatcher, poster: the durable queue) and data (the data service's own schema). RDS creates the pipeline database; the jeeves module creates the data database."
  type = object({
    pipeline = optional(string, "jeeves")
    data     = optional(string, "jeeves_data")
  })
  default = {}

  validation {
    condition     = alltrue([for n in values(var.databases) : can(regex("^[a-z_][a-z0-9_]{0,62}$", n))])
    error_message = "Database names must be lowercase PostgreSQL identifiers of at most 63 characters."
  }

  validation {
    condition     = var.databases.pipeline != var.databases.data
    error_message = "The pipeline and data databases must differ: each keeps its own Alembic version table."
  }

  validation {
    condition     = length(setintersection(toset(values(var.databases)), toset(["postgres", "rdsadmin", "template0", "template1"]))) == 0
    error_message = "postgres, rdsadmin, template0 and template1 are reserved database names."
  }
}

variable "slow_statement_ms" {
  description = "Log statements that run longer than this many milliseconds (100-60000)."
  type        = number
  default     = 500

  validation {
    condition     = var.slow_statement_ms >= 100 && var.slow_statement_ms <= 60000
    error_message = "slow_statement_ms must be from 100 to 60000."
  }
}

variable "client_security_group_ids" {
  description = "Security groups admitted to PostgreSQL: at least the EKS nodes' group."
  type        = list(string)

  validation {
    condition     = length(var.client_security_group_ids) >= 1
    error_message = "client_security_group_ids must name at least the EKS node security group: nothing else reaches the database."
  }
}

variable "credentials_revision" {
  description = "Revision of the master password; raising it generates a new one."
  type        = number
  default     = 1

  validation {
    condition     = var.credentials_revision >= 1 && floor(var.credentials_revision) == var.credentials_revision
    error_message = "credentials_revision must be a whole number from 1."
  }
}
