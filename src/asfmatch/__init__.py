"""The `asfmatch` command: serve, worker, migrate, import, demo, create-admin-key."""
