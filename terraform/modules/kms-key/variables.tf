variable "description" {
  description = "What the key encrypts (shown in the KMS console)."
  type        = string
}

variable "alias" {
  description = "Alias of the key, without the alias/ prefix, e.g. jeeves-dev-postgres (built from the naming module's names)."
  type        = string
}

variable "deletion_window_days" {
  description = "Days KMS waits before deleting the key after it is scheduled for deletion (7-30): the time to undo a mistaken destroy."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}
