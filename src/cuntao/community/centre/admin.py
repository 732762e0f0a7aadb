"""Django admin of this subdomain."""
