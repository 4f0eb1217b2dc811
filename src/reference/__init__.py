"""Reference data shipped with the service: CPV vocabulary, kommuner and län (SCB codes)."""
