"""The summary chart: charts drawn one after another share their layout, never their
numbers; each is the PNG of its own summary."""

from __future__ import annotations

import io
import time
import zlib
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from matplotlib.image import imread
from PIL import Image as PILImage
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.content import Content
from bot.schedule.holidays import load_holidays
from bot.summary import Summary, chart, compute_summary
from bot.summary.chart import TEMPLATE_IDLE_SECONDS, forget_idle_templates, summary_chart
from scheduler.runner import ScheduleRunner
from tests.summary_fakes import NOV, OCT, Partners, Score, png_size

NOVEMBER = date(2026, 11, 1)


async def summary_of(sessions: async_sessionmaker[Any], content: Content, name: str,
                     scores: tuple[list[Score], list[Score]]) -> Summary:
    """Five teachers who scored the ambition anchor in October and November."""
    partners = await Partners.create(sessions, name)
    people = await partners.members("vmbo", "teachers", 5)
    for day, month_scores in zip((OCT, NOV), scores, strict=True):
        round_id = await partners.round(day, ["ambition_1", "relations_1"])
        await partners.answer(round_id, "ambition_1", people, month_scores)
    async with sessions() as session:
        return await compute_summary(session, content, partners.partnership, NOVEMBER)


async def test_a_chart_shows_its_own_numbers_whatever_was_drawn_before(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    first = await summary_of(sessions, content, "Leerlab Zuid", ([2, 2, 3, 3, 3], [4, 4, 5, 5, 5]))
    second = await summary_of(sessions, content, "Leerlab Noord",
                              ([5, 5, 5, 4, 4], [1, 2, 1, 2, 1]))
    assert first.conditions[0].mean != second.conditions[0].mean

    alone = summary_chart(second, content, "nl")
    other = summary_chart(first, content, "nl")
    again = summary_chart(second, content, "nl")
    assert again == alone  # nothing of the chart drawn in between is left on it
    assert other != alone
    for png in (alone, other, summary_chart(first, content, "en")):
        assert png_size(png) == (1000, 800)
        pixels = imread(io.BytesIO(png), format="png")
        assert pixels.shape[:2] == (800, 1000)
        assert pixels.std() > 0.05  # drawn on, not a blank page


async def test_a_name_with_dollar_signs_is_drawn_as_written(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    """matplotlib reads text between two dollar signs as a formula; the partnership's name
    in the title is drawn as typed, and one that is no valid formula still gives a chart."""
    odd = await summary_of(sessions, content, r"Samen $\frac$ sterk",
                           ([2, 2, 3, 3, 3], [4, 4, 5, 5, 5]))
    png = summary_chart(odd, content, "nl")
    assert png_size(png) == (1000, 800)


async def test_a_chart_is_the_same_first_or_after_many_others(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    """Charts share a template, their figures' stamps and the PNG's compressed rows; a
    chart drawn after many others, with other figures beside its bars, has the same pixels
    as the same chart drawn first, and its PNG is whole (every chunk's CRC and the image
    data's Adler-32, which a chart that reuses rows puts together from pieces)."""
    first = await summary_of(sessions, content, "Leerlab Oost", ([2, 2, 3, 3, 3], [4, 4, 5, 5, 5]))
    chart._TEMPLATES.clear()
    for step in range(30):
        other = [replace(t, mean=None if t.mean is None else 1 + (t.mean + step / 7) % 4,
                         respondents=None if t.respondents is None else 5 + step)
                 for t in first.conditions]
        summary_chart(replace(first, conditions=tuple(other)), content, "nl")
    again = summary_chart(first, content, "nl")
    chart._TEMPLATES.clear()
    assert decoded(again) == decoded(summary_chart(first, content, "nl"))
    at, data = 8, b""
    while at < len(again):
        length = int.from_bytes(again[at:at + 4], "big")
        kind, body = again[at + 4:at + 8], again[at + 8:at + 8 + length]
        assert int.from_bytes(again[at + 8 + length:at + 12 + length], "big") == \
            zlib.crc32(kind + body)
        data += body if kind == b"IDAT" else b""
        at += 12 + length
    assert len(zlib.decompress(data)) == 800 * (1 + 3 * 1000)  # checks the Adler-32


async def test_a_chart_layout_is_let_go_once_no_chart_was_drawn_for_a_while(
    sessions: async_sessionmaker[Any], content: Content
) -> None:
    """A monthly run leaves its templates (13-18 MB each) behind; after ten idle minutes
    they go, and a later chart is laid out again, the same."""
    summary = await summary_of(sessions, content, "Leerlab West", ([2, 2, 3, 3, 3],
                                                                   [4, 4, 5, 5, 5]))
    chart._TEMPLATES.clear()  # only this test's
    first = summary_chart(summary, content, "nl")
    drawn = time.monotonic()
    assert forget_idle_templates(now=drawn + TEMPLATE_IDLE_SECONDS - 1) == 1
    assert forget_idle_templates(now=drawn + TEMPLATE_IDLE_SECONDS) == 0
    assert summary_chart(summary, content, "nl") == first


async def test_the_scheduler_tick_lets_idle_chart_layouts_go(
    sessions: async_sessionmaker[Any], content: Content, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = await summary_of(sessions, content, "Leerlab Noordwest", ([3, 3, 3, 4, 4],
                                                                        [4, 4, 4, 5, 5]))
    summary_chart(summary, content, "en")
    assert chart._TEMPLATES
    monkeypatch.setattr(chart, "TEMPLATE_IDLE_SECONDS", 0.0)
    await ScheduleRunner(sessions, content, load_holidays(), {}, tick_seconds=3600).tick()
    assert not chart._TEMPLATES


def decoded(png: bytes) -> bytes:
    with PILImage.open(io.BytesIO(png)) as image:
        return image.convert("RGB").tobytes()
