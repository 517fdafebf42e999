terraform {
  required_version = ">= 1.11.1"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.28"
    }
    helm = {
      source  = "hashicorp/helm"
      version = ">= 3.0"
    }
    kubernetes = {
      source = "hashicorp/kubernetes"
      # 3.2.1 fixed write-only data (data_wo) on kubernetes_secret_v1.
      version = ">= 3.2.1"
    }
  }
}
