"""1,000 runs of 3 users submitted at once all finish; the user with one run is not starved.

PostgreSQL + RabbitMQ. The scheduler is paused (supervisorctl) while the runs are submitted,
so all 1,000 are queued at once, the single run of the third user last of all; then it starts.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.conftest import serial_spec, start_platform, stop_platform

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.rabbitmq,
    pytest.mark.timeout(900),
]

CONCURRENCY = 30
RUNS = int(os.environ.get("REANA_E2E_LOAD_RUNS", "1000"))
"""Total runs (the many-run user gets 60 %, the second user the rest but one).

The issue's 1,000 (the runs themselves took ~110 s on the shared 2-core machine, load ~9,
once the zygote prepared the job controller's Flask app and database layer); lower it with
REANA_E2E_LOAD_RUNS for a quicker local check."""


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    live = start_platform(
        tmp_path_factory.mktemp("load") / "reana-home",
        "services",
        {"REANA_MAX_CONCURRENT_BATCH_WORKFLOWS": str(CONCURRENCY),
         # 16 clients submit as fast as the platform admits (hundreds of requests a second):
         # above the default per-user rate limit, which is not what this test is about.
         "REANA_RATELIMIT_AUTHENTICATED_USER": "100000 per second"},
    )
    yield live
    stop_platform(live)


def test_thousand_runs_of_three_users(platform):
    """All end finished; the lone run starts with the first wave (fair share)."""
    tokens = {
        "many": platform.token,
        "some": platform.create_user("some@example.org"),
        "one": platform.create_user("one@example.org"),
    }
    spec = serial_spec("true")
    platform.supervisorctl("stop", "scheduler")
    many = RUNS * 6 // 10
    plan = [("many", f"a{i}") for i in range(many)]
    plan += [("some", f"b{i}") for i in range(RUNS - many - 1)]
    plan.sort(key=lambda item: int(item[1][1:]))  # the two users interleaved
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda item: platform.submit(spec, item[1], tokens[item[0]]), plan))
    single = platform.submit(spec, "single", tokens["one"])
    started = time.monotonic()
    platform.supervisorctl("start", "scheduler")

    engine = sa.create_engine(platform.env["REANA_SQLALCHEMY_DATABASE_URI"])
    try:
        deadline = started + 780
        while True:
            with engine.connect() as connection:
                counts = dict(
                    connection.execute(
                        sa.text("SELECT status, count(*) FROM workflow GROUP BY status")
                    ).all()
                )
            if counts.get("finished", 0) + counts.get("failed", 0) == RUNS:
                break
            assert time.monotonic() < deadline, f"not all runs ended: {counts}"
            time.sleep(1)
        elapsed = time.monotonic() - started
        if counts.get("finished") != RUNS:
            with engine.connect() as connection:
                reasons = connection.execute(
                    sa.text("SELECT name, right(logs, 600) FROM workflow WHERE status = 'failed'")
                ).all()
            raise AssertionError(f"{counts}: {reasons[:3]}")
        with engine.connect() as connection:
            before = connection.execute(
                sa.text(
                    "SELECT count(*) FROM workflow WHERE run_started_at < "
                    "(SELECT run_started_at FROM workflow WHERE id_ = :id)"
                ),
                {"id": single.replace("-", "") if engine.dialect.name == "sqlite" else single},
            ).scalar()
        # Fair share: the lone run goes with the first wave, not after 999 older runs.
        # (run_started_at is when the engine reports running, so order inside a wave is loose:
        # it must start within the first two waves, not after the other users' 999 runs.)
        assert before < 2 * CONCURRENCY, before
        print(f"\n{RUNS} runs in {elapsed:.1f}s ({RUNS / elapsed:.1f} runs/s); {before} before")
    finally:
        engine.dispose()
