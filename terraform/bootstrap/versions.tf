terraform {
  required_version = ">= 1.11.1, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.28"
    }
  }

  # The state bucket cannot hold its own creation: this root keeps a local state file. Keep it
  # (it is small and holds no secret), or migrate it into the bucket afterwards (docs/aws.md).
}
