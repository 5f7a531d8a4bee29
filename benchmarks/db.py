"""Database preparation for benchmark runs: create and migrate the benchmark database, remember which
generated data sets it holds, and load rows fast (COPY on PostgreSQL, executemany on SQLite)."""

import hashlib
import io
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench"
# City scale has a database of its own, so its tens of gigabytes and the default scale's data coexist.
FULL_SCALE_PG_URL = "postgres://postgres@127.0.0.1:5432/yiwang_bench_full"
DEFAULT_SQLITE_PATH = Path("/tmp/yiwang_bench_quick.sqlite3")


def database_url(mode: str, scale: str = "default") -> str:
    if mode == "full":
        return os.environ.get("BENCH_DATABASE_URL") or (FULL_SCALE_PG_URL if scale == "full" else DEFAULT_PG_URL)
    return os.environ.get("BENCH_QUICK_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _admin_connection(url: str):
    import psycopg

    parsed = urlparse(url)
    return psycopg.connect(host=parsed.hostname or "127.0.0.1", port=parsed.port or 5432,
                           user=parsed.username or "postgres", password=parsed.password, dbname="postgres",
                           autocommit=True)


def pg_database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def pg_create_database(url: str, *, drop: bool = False) -> None:
    name = pg_database_name(url)
    if not name.replace("_", "").isalnum():
        raise ValueError(f"refusing odd database name {name!r}")
    with _admin_connection(url) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def sqlite_reset(url: str) -> None:
    path = Path(urlparse(url).path)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def sqlite_migrated(url: str, migrate) -> None:
    """Migrate an empty SQLite file, reusing a migrated copy kept beside it while no migration changed."""
    import shutil

    from django.db import connection

    path = Path(urlparse(url).path)
    apps = sorted(str(p.parent.parent.relative_to(ROOT)) for p in ROOT.glob("yiwang/*/migrations/__init__.py"))
    template = path.with_name(f"{path.stem}.migrated-{migration_fingerprint(*apps)}.sqlite3")
    if template.exists():
        connection.close()
        shutil.copyfile(template, path)
        return
    migrate()
    connection.close()
    for old in path.parent.glob(f"{path.stem}.migrated-*.sqlite3"):
        old.unlink(missing_ok=True)
    shutil.copyfile(path, template)


def migration_fingerprint(*app_dirs: str) -> str:
    """A hash of the migration files of these apps: data sets regenerate when a schema changes."""
    digest = hashlib.sha256()
    for app_dir in app_dirs:
        for path in sorted((ROOT / app_dir / "migrations").glob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# -- data set markers ---------------------------------------------------------------------------------

def _ensure_marker_table(cursor) -> None:
    cursor.execute("CREATE TABLE IF NOT EXISTS bench_dataset (name varchar(100) PRIMARY KEY, params text NOT NULL, "
                   "seconds double precision NOT NULL, info text NOT NULL)")


def dataset_info(name: str, params: dict) -> dict | None:
    """The recorded info of a data set generated with exactly these params, else None."""
    from django.db import connection

    with connection.cursor() as cursor:
        _ensure_marker_table(cursor)
        cursor.execute("SELECT params, seconds, info FROM bench_dataset WHERE name = %s", [name])
        found = cursor.fetchone()
    if found and found[0] == json.dumps(params, sort_keys=True):
        return {"seconds": found[1], **json.loads(found[2]), "reused": True}
    return None


def dataset_forget(name: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        _ensure_marker_table(cursor)
        cursor.execute("DELETE FROM bench_dataset WHERE name = %s", [name])


def dataset_record(name: str, params: dict, seconds: float, info: dict) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        _ensure_marker_table(cursor)
        cursor.execute("DELETE FROM bench_dataset WHERE name = %s", [name])
        cursor.execute("INSERT INTO bench_dataset (name, params, seconds, info) VALUES (%s, %s, %s, %s)",
                       [name, json.dumps(params, sort_keys=True), seconds, json.dumps(info)])


def ensure_dataset(name: str, params: dict, generate, log=print) -> dict:
    """Generate a data set unless one with the same params is already there; returns its info
    (row counts, seconds) so the report can print the size every figure was measured at."""
    info = dataset_info(name, params)
    if info is not None:
        log(f"  data {name}: reusing ({_describe(info)})")
        return info
    dataset_forget(name)
    log(f"  data {name}: generating {json.dumps(params, sort_keys=True)} ...")
    started = time.perf_counter()
    info = generate() or {}
    seconds = time.perf_counter() - started
    dataset_record(name, params, seconds, info)
    log(f"  data {name}: {_describe(info)} in {seconds:.1f} s")
    return {"seconds": seconds, **info, "reused": False}


def _describe(info: dict) -> str:
    return ", ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in info.items()
                     if k not in ("seconds", "reused"))


# -- fast loading -------------------------------------------------------------------------------------

def is_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _copy_text(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    if any(c in text for c in "\\\t\n\r"):
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def bulk_load(table: str, columns: list[str], rows: Iterable[tuple], *, chunk_rows: int = 50_000) -> int:
    """Insert rows fast: COPY FROM STDIN in text format on PostgreSQL, executemany on SQLite."""
    from django.db import connection, transaction

    with transaction.atomic():
        _skip_fk_triggers(connection)
        return _bulk_load(connection, table, columns, rows, chunk_rows)


def _skip_fk_triggers(connection) -> None:
    """Generated rows reference only rows that exist, so PostgreSQL's per-row foreign-key triggers (fired
    at COMMIT for Django's deferred constraints: minutes for millions of rows) are skipped for this
    transaction, as pg_restore does. Needs a superuser; otherwise the checks simply run."""
    from django.db import DatabaseError, transaction

    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        pass


def _bulk_load(connection, table, columns, rows, chunk_rows) -> int:
    count = 0
    if connection.vendor == "postgresql":
        sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            buffer = io.StringIO()
            n = 0
            for values in rows:
                buffer.write("\t".join(_copy_text(v) for v in values))
                buffer.write("\n")
                n += 1
                if n >= chunk_rows:
                    copy.write(buffer.getvalue().encode())
                    buffer = io.StringIO()
                    count += n
                    n = 0
            if n:
                copy.write(buffer.getvalue().encode())
                count += n
        return count
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({placeholders})'
    batch: list[tuple] = []
    with connection.cursor() as cursor:
        for values in rows:
            batch.append(tuple(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                               for v in values))
            if len(batch) >= chunk_rows:
                cursor.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def copy_text_lines(table: str, columns: list[str], lines: Iterable[str], *, chunk_lines: int = 50_000) -> int:
    """COPY pre-rendered text-format lines (PostgreSQL only) in one transaction."""
    from django.db import connection, transaction

    with transaction.atomic():
        _skip_fk_triggers(connection)
        return _copy_lines(connection, table, columns, lines, chunk_lines)


def _copy_lines(connection, table, columns, lines, chunk_lines) -> int:
    count = 0
    with connection.cursor() as cursor, \
            cursor.cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= chunk_lines:
                copy.write("".join(chunk).encode())
                count += len(chunk)
                chunk = []
        if chunk:
            copy.write("".join(chunk).encode())
            count += len(chunk)
    return count


def reset_sequence(table: str, column: str = "id") -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{column}'), "
                           f"COALESCE((SELECT MAX({column}) FROM \"{table}\"), 0) + 1, false)")


def truncate(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        else:
            for t in tables:
                cursor.execute(f'DELETE FROM "{t}"')


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def max_id(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        return cursor.fetchone()[0]
