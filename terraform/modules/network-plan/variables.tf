variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC: a private (RFC 1918) network address with a prefix length of /16 to /20."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be an IPv4 CIDR such as 10.0.0.0/16."
  }

  validation {
    # Each rule below passes input that is no CIDR at all: the rule above names that problem.
    condition     = !can(cidrhost(var.vpc_cidr, 0)) || try(cidrhost(var.vpc_cidr, 0) == split("/", var.vpc_cidr)[0], false)
    error_message = "vpc_cidr must be a network address (no host bits set), e.g. 10.0.0.0/16 rather than 10.0.1.0/16."
  }

  validation {
    condition     = !can(cidrhost(var.vpc_cidr, 0)) || try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 20, false)
    error_message = "vpc_cidr must be /16 to /20: AWS allows no larger VPC, and below /20 the private subnets get too few addresses for pod IPs (the VPC CNI gives every pod a VPC address)."
  }

  validation {
    condition = !can(cidrhost(var.vpc_cidr, 0)) || try(
      can(regex("^10\\.", var.vpc_cidr)) ||
      can(regex("^192\\.168\\.", var.vpc_cidr)) ||
      (startswith(var.vpc_cidr, "172.") && tonumber(split(".", var.vpc_cidr)[1]) >= 16 && tonumber(split(".", var.vpc_cidr)[1]) <= 31),
      false
    )
    error_message = "vpc_cidr must lie in a private range (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16)."
  }
}

variable "availability_zones" {
  description = "Names of the region's availability zones to choose from (the network module passes the region's zones); the first az_count are used."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == length(distinct(var.availability_zones))
    error_message = "availability_zones must not repeat a zone."
  }

  validation {
    condition     = length(var.availability_zones) >= var.az_count
    error_message = "availability_zones must name at least az_count zones."
  }
}

variable "az_count" {
  description = "How many availability zones the VPC spans (2-4). EKS and RDS Multi-AZ need at least 2; 3 keeps etcd's quorum through the loss of one zone."
  type        = number
  default     = 3

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4 && floor(var.az_count) == var.az_count
    error_message = "az_count must be a whole number from 2 to 4."
  }
}

variable "nat_gateway_mode" {
  description = "\"single\": one NAT gateway for the whole VPC (cheaper; egress stops if its zone fails). \"per_az\": one per zone (resilient; one NAT gateway's hourly price per zone)."
  type        = string
  default     = "per_az"

  validation {
    condition     = contains(["single", "per_az"], var.nat_gateway_mode)
    error_message = "nat_gateway_mode must be \"single\" or \"per_az\"."
  }
}
