output "backend_config" {
  description = "Lines for envs/<env>/backend.hcl (add key = \"jeeves/<env>/terraform.tfstate\")."
  value = {
    bucket         = aws_s3_bucket.state.bucket
    region         = var.region
    encrypt        = true
    kms_key_id     = module.key.arn
    dynamodb_table = aws_dynamodb_table.lock.name
  }
}
