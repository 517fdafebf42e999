terraform {
  # 1.9: validation rules may refer to other variables.
  required_version = ">= 1.9.0"
}
