"""tokens: the token dealer (OAuth2 client credentials -> RS256 JWT, JWKS)."""
