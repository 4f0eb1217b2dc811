# The production image: the API or the worker, against a real PostgreSQL and Redis.
FROM python:3.12-slim AS build
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
COPY sql ./sql
# The wheel carries the migrations and reference data (src/asfmatch/sql links to sql/).
RUN pip wheel --no-cache-dir --no-deps -w /dist .

FROM python:3.12-slim
# numba keeps compiled ranking loops beside the package, which the unprivileged user cannot
# write; without a writable cache directory numba refuses to import the kernels at all.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    NUMBA_CACHE_DIR=/app/numba-cache
WORKDIR /app
COPY --from=build /dist /dist
# No [embedded] extra: this image always runs against the PostgreSQL and Redis it is given.
# The loops are compiled here, once, so a container starts in seconds, not after the ~30 s
# compile; the user owns the cache, as numba also writes there for a different CPU.
RUN pip install /dist/*.whl && rm -rf /dist && useradd --system --home /app asfmatch \
    && python -c "from asfmatch.services.match_index import prepare_ranking; prepare_ranking()" \
    && chown -R asfmatch /app/numba-cache
USER asfmatch

EXPOSE 8000
CMD ["asfmatch", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
