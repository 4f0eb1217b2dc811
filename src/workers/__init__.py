"""Background jobs: the queue runner and the jobs it runs (ranking, notifications)."""
