variable "name" {
  description = "Name of the VPC and stem of its parts' names (naming module's names.vpc)."
  type        = string
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC (private range, /16 to /20; validated by network-plan)."
  type        = string
  default     = "10.0.0.0/16"
}

variable "availability_zones" {
  description = "Zones to use, in order (e.g. [\"eu-west-1a\", \"eu-west-1b\", \"eu-west-1c\"]); null takes the region's first az_count zones by name."
  type        = list(string)
  default     = null
}

variable "az_count" {
  description = "How many availability zones the VPC spans (2-4; validated by network-plan)."
  type        = number
  default     = 3
}

variable "nat_gateway_mode" {
  description = "\"single\" (one NAT gateway) or \"per_az\" (one per zone); validated by network-plan."
  type        = string
  default     = "per_az"
}

variable "flow_log_retention_days" {
  description = "Days CloudWatch keeps the VPC flow logs (a CloudWatch retention value)."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource (naming module's tags)."
  type        = map(string)
  default     = {}
}
