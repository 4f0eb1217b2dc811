# The production image: the API or the worker, against a real PostgreSQL and Redis.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY src ./src
COPY sql ./sql
# Editable install keeps sql/ where storage.migrations looks for it (next to src/). No
# [embedded] extra: this image always runs against the PostgreSQL and Redis it is given.
RUN pip install -e . && useradd --system --home /app asfmatch
USER asfmatch

EXPOSE 8000
CMD ["asfmatch", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
