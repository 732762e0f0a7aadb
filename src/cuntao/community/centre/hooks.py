"""Panels, periodic jobs and hooks this subdomain registers at start-up."""


def register() -> None:
    """Called from the app's ready()."""
