"""`achtje summary --format csv`: one row per month x condition x group for a school's
quality office, the same rows as the dashboard's download; cells the frozen month does not
show are empty, with the reason, and no group below the threshold is in it."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

from bot.domain import CONDITION_IDS, LEVEL_IDS, SCHOOL_TYPES
from bot.summary.export import CSV_COLUMNS
from tests.summary_fakes import achtje, fill


def test_csv_rows_for_a_month_and_for_the_school_year(tmp_path: Path) -> None:
    partnership = asyncio.run(fill(tmp_path))
    args = ["summary", "--partnership", str(partnership), "--format", "csv"]
    (code, out, err), (year_code, year_out, year_err), (short, _, short_err) = achtje(
        tmp_path, ([*args, "--month", "2026-10"], {}), (args, {}), ([*args, "--short"], {}))
    assert code == 0, err
    text = out.decode()
    assert text.startswith(",".join(CSV_COLUMNS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    schools = 2  # the partnership's vmbo school and mbo college, each listed every month
    assert len(rows) == len(CONDITION_IDS) * (1 + len(SCHOOL_TYPES) + len(LEVEL_IDS)
                                              + schools) + 3
    by_key = {(r["topic"], r["group_name"] or r["group"]): r for r in rows}
    # Three vmbo teachers scored shared ambition 4, 4, 3 in October.
    everyone = by_key[("ambition", "all")]
    assert (everyone["month"], everyone["respondents"], everyone["mean"],
            everyone["suppressed"]) == ("2026-10", "3", "3.67", "")
    for group in ("mbo", "other", "board", "management"):  # nobody: empty, with the reason
        row = by_key[("ambition", group)]
        assert (row["respondents"], row["mean"], row["suppressed"]) == (
            "", "", "below_threshold")
    # Per school: the vmbo school is the three teachers, the mbo college nobody.
    school = by_key[("ambition", "Vmbo Noorderlicht")]
    assert (school["group_kind"], school["group"].isdigit(), school["respondents"],
            school["mean"], school["suppressed"]) == ("school", True, "3", "3.67", "")
    college = by_key[("ambition", "Mbo Vakcollege")]
    assert (college["respondents"], college["mean"], college["suppressed"]) == (
        "", "", "below_threshold")
    assert by_key[("process", "all")]["suppressed"] == "not_asked"
    assert all(r["respondents"] == "" or int(r["respondents"]) >= 3 for r in rows)
    assert all(r["min_group_size"] == "3" for r in rows)
    # Without --month: every month of the last month's school year that has figures.
    assert year_code == 0, year_err
    months = {r["month"] for r in csv.DictReader(io.StringIO(year_out.decode()))}
    assert months and len({m[:4] for m in months}) <= 2
    assert short != 0 and "--short is for --format text or html" in short_err
