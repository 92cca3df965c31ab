"""Every ```sql block of the README, pasted verbatim into real psql against a warehouse holding data, as the
role the README gives it to (the web app's queue SQL as mre_webapp, the analysts' queries as mre_analyst),
after the README's own ```psql block of `\\set` lines for the placeholders."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from mre_pipeline import settings
from mre_pipeline.warehouse import migrate
from mre_pipeline.warehouse.engine import libpq_url
from mre_pipeline.warehouse.event_results import write_event
from mre_pipeline_tests.summaries.conftest import dbt_build_ok
from mre_pipeline_tests.summaries.synthetic import TRACK, synthetic_events

PSQL = shutil.which("psql")
README = settings.PROJECT_ROOT / "README.md"

# Values the synthetic data holds, set the way the README documents (a text value carries its quotes).
TEST_VALUES = f"""\\set source '''liverc'''
\\set source_race_id 7001
\\set source_driver_id 101
\\set after_lap 8
\\set first_seconds 120
\\set track_slug '''{TRACK}'''
\\set year 2025
\\set request_id 1
"""

pytestmark = pytest.mark.skipif(PSQL is None, reason="psql is not installed (CI installs postgresql-client)")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), flags=re.S | re.M)


@pytest.fixture(scope="module")
def passwords(summaries_db: str, summaries_engine: sa.Engine) -> Iterator[dict[str, str]]:
    """A warehouse with two events of synthetic results, summaries built, and the roles' passwords set."""
    with summaries_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO mre.tracks (slug, name) VALUES (:s, 'Test Track')"), {"s": TRACK})
    for detail, races in synthetic_events():
        with summaries_engine.begin() as conn:
            write_event(conn, detail, races, None)
    dbt_build_ok(summaries_db)
    chosen = {"mre_webapp": "webapp readme pw", "mre_analyst": "analyst readme pw"}
    with pytest.MonkeyPatch.context() as patch:
        for role, variable in migrate.ROLE_PASSWORD_ENV.items():
            patch.setenv(variable, chosen[role])
        assert sorted(migrate.apply_role_passwords(summaries_db)) == sorted(chosen)
    yield chosen


def paste(url: str, password: str, script: str) -> subprocess.CompletedProcess[str]:
    assert PSQL is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(
        [PSQL, url, "-X", "-v", "ON_ERROR_STOP=1"],
        input=script,
        env={**env, "PGPASSWORD": password},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_sql_block_runs_in_psql(summaries_db: str, passwords: dict[str, str]) -> None:
    [documented_sets] = blocks("psql")
    sql_blocks = blocks("sql")
    assert len(sql_blocks) >= 4
    for block in sql_blocks:
        assert block.rstrip().endswith(";"), f"pasted into psql, this block would not run:\n{block}"
        role = "mre_webapp" if "mre.ingestion_requests" in block else "mre_analyst"
        url = libpq_url(make_url(summaries_db).set(username=role, password=None).render_as_string(False))
        result = paste(url, passwords[role], documented_sets + TEST_VALUES + block)
        assert result.returncode == 0 and "ERROR" not in result.stderr, f"{result.stderr}\n{block}"
        if role == "mre_analyst":
            assert "(0 rows)" not in result.stdout, f"no rows on the test data:\n{result.stdout}\n{block}"
