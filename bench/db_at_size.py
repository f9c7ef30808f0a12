"""The database at size: EXPLAIN ANALYZE of the hot queries on PostgreSQL.

``python -m bench.db_at_size [URL]`` empties the PostgreSQL database at URL
(default: postgresql+psycopg://postgres@127.0.0.1:5432/matchloop_at_size,
created when missing), migrates it, generates 100,000 collaborations and
1,000,000 prediction-log rows inside the server (multi-row ``INSERT ...
SELECT generate_series``: seconds, not minutes), runs each hot query under
``EXPLAIN (ANALYZE, BUFFERS)``, prints the plans and a summary of the index
each one used and its time, then times the batched retention purge.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/matchloop_at_size"
INFLUENCERS, COMPANIES, COLLABORATIONS, LOG_ROWS = 40_000, 2_000, 100_000, 1_000_000

GENERATE = [
    f"""INSERT INTO influencers (external_id, handle, niche, secondary_niches, platforms,
        followers, engagement_rate, country, rate_per_post, joined_on, posts_per_week,
        avg_response_hours, content_quality, created_at, updated_at)
    SELECT 'INF-' || g, 'creator_' || g, (ARRAY['fitness','gaming','travel','food'])[1 + g % 4],
        '[]', '["instagram"]', 1000 + g % 90000, 0.01 + (g % 90) / 1000.0,
        (ARRAY['US','DE','FR'])[1 + g % 3], 100 + g % 900, DATE '2023-01-01' + g % 700,
        3, 6, 7, now(), now()
    FROM generate_series(1, {INFLUENCERS}) g""",
    f"""INSERT INTO companies (external_id, name, industry, target_niches, country,
        target_countries, budget_per_campaign, joined_on, created_at, updated_at)
    SELECT 'CO-' || g, 'Brand ' || g, (ARRAY['fitness','gaming','travel','food'])[1 + g % 4],
        '[]', 'US', '["US"]', 500 + g % 5000, DATE '2023-01-01' + g % 700, now(), now()
    FROM generate_series(1, {COMPANIES}) g""",
    f"""INSERT INTO collaborations (external_id, influencer_id, company_id, proposed_on,
        status, budget, match_snapshot, created_at, proposer_side)
    SELECT 'C-' || g, 1 + (g * 7919) % {INFLUENCERS}, 1 + (g * 104729) % {COMPANIES},
        DATE '2024-01-01' + (g % 700)::int,
        (ARRAY['completed','completed','completed','cancelled','active','proposed'])[1 + g % 6],
        1000, '{{}}', now(), 'company'
    FROM generate_series(1::bigint, {COLLABORATIONS}) g""",
    """INSERT INTO outcomes (collaboration_id, rater_side, success_rating,
        completion_status, would_collaborate_again, success_factors, rated_at, updated_at)
    SELECT id, 'company', 1 + id % 5, 'completed', true, '[]',
        proposed_on + INTERVAL '30 days', now()
    FROM collaborations WHERE status = 'completed'""",
    """INSERT INTO model_versions (model_type, version, status, algorithm, params, metrics,
        feature_names, sample_count, artifact_path, sha256, size_bytes, library_versions,
        created_at)
    SELECT 'match_success', g, CASE WHEN g = 3 THEN 'active' ELSE 'archived' END,
        'logistic_regression', '{}', '{}', '[]', 1000, 'v' || g, md5(g::text), 1, '{}', now()
    FROM generate_series(1, 3) g""",
    f"""INSERT INTO prediction_logs (prediction_id, model_type, version_id, fallback, subject,
        influencer_id, company_id, score, confidence, source, created_at)
    SELECT md5(g::text), (ARRAY['match_success','match_success','roi','risk'])[1 + g % 4],
        CASE WHEN g % 4 < 2 AND g % 10 <> 0 THEN 1 + g % 3 END, g % 10 = 0,
        'CO-' || (1 + g % {COMPANIES}), 1 + (g * 7919) % {INFLUENCERS},
        1 + g % {COMPANIES}, (g % 1000) / 1000.0, 0.5,
        (ARRAY['api','batch','rank'])[1 + g % 3],
        now() - (g % (240 * 24))::int * INTERVAL '1 hour'
    FROM generate_series(1::bigint, {LOG_ROWS}) g""",
]

# (name, SQL, what the index is for); EXPLAIN ANALYZE of writes runs in a rolled back
# transaction.
HOT_QUERIES = [
    (
        "purge: next batch of expired ids",
        "SELECT id FROM prediction_logs WHERE created_at < now() - INTERVAL '180 days' "
        "ORDER BY created_at LIMIT 5000",
    ),
    (
        "purge: delete one batch",
        "DELETE FROM prediction_logs WHERE id IN (SELECT id FROM prediction_logs "
        "WHERE created_at < now() - INTERVAL '180 days' ORDER BY created_at LIMIT 5000)",
    ),
    (
        "live metrics: one type, last 7 days",
        "SELECT count(*), avg(score) FROM prediction_logs WHERE model_type = "
        "'match_success' AND created_at >= now() - INTERVAL '7 days'",
    ),
    (
        "live metrics: one version, last 7 days",
        "SELECT count(*), avg(score) FROM prediction_logs WHERE version_id = 3 "
        "AND created_at >= now() - INTERVAL '7 days'",
    ),
    (
        "all types, last hour (time window)",
        "SELECT model_type, count(*) FROM prediction_logs "
        "WHERE created_at >= now() - INTERVAL '1 hour' GROUP BY model_type",
    ),
    (
        "deleting a version nulls its log rows (FK ON DELETE SET NULL)",
        "UPDATE prediction_logs SET version_id = NULL WHERE version_id = 1",
    ),
    (
        "outcome join: the predictions of one pair",
        "SELECT score, created_at FROM prediction_logs "
        "WHERE influencer_id = 7919 AND company_id = 1230",
    ),
    (
        "outcomes of one collaboration",
        "SELECT * FROM outcomes WHERE collaboration_id = 4242",
    ),
    (
        "open collaborations of one company (ranking excludes them)",
        "SELECT influencer_id FROM collaborations WHERE company_id = 17 "
        "AND status IN ('proposed', 'accepted', 'active')",
    ),
    (
        "collaborations of one influencer, newest first",
        "SELECT * FROM collaborations WHERE influencer_id = 1234 "
        "ORDER BY proposed_on DESC, id DESC LIMIT 25",
    ),
    (
        "collaborations page, newest first",
        "SELECT * FROM collaborations ORDER BY proposed_on DESC, id DESC LIMIT 25",
    ),
    (
        "outcomes page, newest first",
        "SELECT * FROM outcomes ORDER BY rated_at DESC, id DESC LIMIT 25",
    ),
]


# Every scan of a plan: "Index Scan using ix on t", "Bitmap Index Scan on ix", "Seq Scan on t".
SCAN = re.compile(
    r"((?:Bitmap Index|Bitmap Heap|Index Only|Index|Seq) Scan(?: Backward)?"
    r"(?: using \S+)? on \S+)"
)


def ensure_database(url: str) -> None:
    """Create the database of ``url`` when it does not exist."""
    target = make_url(url)
    server = sa.create_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    with server.connect() as connection:
        exists = connection.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
            {"name": target.database},
        )
        if not exists:
            connection.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    server.dispose()


def migrate(url: str) -> None:
    """Empty the database and build the schema with the real migrations."""
    import tempfile

    from flask_migrate import upgrade

    from webapp import create_app

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    os.environ["MATCHLOOP_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="matchloop-size-")
    app = create_app({"ENV": "testing", "SECRET_KEY": "x", "DATABASE_URL": url})
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)


def generate(engine: sa.Engine) -> dict[str, float]:
    """Fill the tables; return the seconds each statement took."""
    took = {}
    with engine.begin() as connection:
        for statement in GENERATE:
            started = time.perf_counter()
            connection.execute(sa.text(statement))
            table = statement.split()[2]
            took[table] = round(time.perf_counter() - started, 1)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("VACUUM ANALYZE"))
    return took


def explain(engine: sa.Engine, sql: str) -> dict[str, Any]:
    """Run ``sql`` once under EXPLAIN (ANALYZE, BUFFERS) in a rolled-back transaction."""
    with engine.connect() as connection:
        transaction = connection.begin()
        lines = [
            row[0]
            for row in connection.execute(sa.text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}"))
        ]
        transaction.rollback()
    text = "\n".join(lines)
    return {
        "ms": float(re.search(r"Execution Time: ([0-9.]+) ms", text).group(1)),
        "scans": sorted(set(SCAN.findall(text))),
        "plan": text,
    }


def timed_purge(url: str, batch: int) -> dict[str, Any]:
    """Run the real purge job on the generated log; return rows, seconds, longest batch."""
    import tempfile

    from webapp import create_app
    from webapp.extensions import db
    from workers.scheduled import purge_prediction_logs

    os.environ["MATCHLOOP_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="matchloop-size-")
    app = create_app(
        {
            "ENV": "testing",
            "SECRET_KEY": "x",
            "DATABASE_URL": url,
            "PREDICTION_LOG_PURGE_BATCH": batch,
        }
    )
    commits: list[float] = [time.perf_counter()]
    with app.app_context():
        sa.event.listen(
            db.session, "after_commit", lambda s: commits.append(time.perf_counter())
        )
        purged = purge_prediction_logs()
    gaps = [b - a for a, b in zip(commits, commits[1:], strict=False)]
    return {
        "rows": purged,
        "batch": batch,
        "transactions": len(gaps),
        "seconds": round(commits[-1] - commits[0], 2),
        "longest_transaction_ms": round(max(gaps) * 1000, 1),
    }


def main() -> None:
    """Build the data, print every plan, then the summary as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url", nargs="?", default=DEFAULT_URL)
    args = parser.parse_args()
    os.environ.setdefault("MATCHLOOP_LOG_LEVEL", "WARNING")
    ensure_database(args.url)
    migrate(args.url)
    engine = sa.create_engine(args.url)
    summary: dict[str, Any] = {"generated_seconds": generate(engine)}
    with engine.connect() as connection:
        summary["rows"] = {
            table: connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            for table in ("collaborations", "outcomes", "prediction_logs")
        }
    summary["queries"] = {}
    for name, sql in HOT_QUERIES:
        found = explain(engine, sql)
        print(f"== {name}\n{sql}\n{found.pop('plan')}\n", flush=True)
        summary["queries"][name] = found
    engine.dispose()
    summary["purge"] = timed_purge(args.url, 5000)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
