"""HTTP API (Litestar): routes, request and response schemas, authentication and limits."""
