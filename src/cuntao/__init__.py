"""cuntao: software for a network of village e-commerce service stations (村淘)."""
