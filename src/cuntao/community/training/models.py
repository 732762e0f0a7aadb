"""Tables of this subdomain."""

__all__: list[str] = []
