"""Storage layer: settings, embedded servers, PostgreSQL repositories and the Redis cache."""
