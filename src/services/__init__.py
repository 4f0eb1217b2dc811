"""Business rules: what buyers, suppliers and admins may do, called by the API, the CLI and the
workers alike. Raises domain errors (`services.errors`); never knows about HTTP."""
