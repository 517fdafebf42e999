provider "aws" {
  region = var.region
}

# Both authenticate with a short-lived token from `aws eks get-token` (the AWS CLI must be on
# PATH), so no credential is stored in the state.
provider "kubernetes" {
  host                   = module.environment.cluster_endpoint
  cluster_ca_certificate = base64decode(module.environment.cluster_certificate_authority_data)
  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = ["eks", "get-token", "--cluster-name", module.environment.cluster_name, "--region", var.region]
  }
}

provider "helm" {
  kubernetes = {
    host                   = module.environment.cluster_endpoint
    cluster_ca_certificate = base64decode(module.environment.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.environment.cluster_name, "--region", var.region]
    }
  }
}
