"""Web UI: time to the runs list's first page with 10,000 runs, and the size of what pages load.

A step of ``make bench``'s platform (PostgreSQL + RabbitMQ): a user with 10,000 runs
(rows, as the listing step inserts them) opens the UI in Debian's headless Chromium
(Playwright, ``/usr/bin/chromium``), signed in with their token.
``ui_list_10k_ms``: from the navigation to ``/`` to the first page's 20 rows drawn,
median of the repetitions (each the median of a few loads; target ≤ 1000).
``ui_assets_kb``: every file the runs list and a run's page load from the server (page
shell, modules, style sheet, icon; API answers excluded), gzip-compressed (target ≤ 500).
"""

from __future__ import annotations

import gzip
import os
import statistics
import time
from pathlib import Path

from bench_data import bench_user, insert_runs, vacuum_analyze
from bench_platform import Platform
from bench_report import Results

CHROMIUM = os.environ.get("REANA_CHROMIUM", "/usr/bin/chromium")
LOADS = 5


def _sign_in(page, url: str, token: str) -> None:
    page.goto(url + "/signin")
    page.get_by_label("Access token").fill(token)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_selector("tr.run-row", timeout=60_000)


def _first_page_ms(page, url: str) -> float:
    began = time.perf_counter()
    page.goto(url + "/", wait_until="commit")
    page.wait_for_function("() => document.querySelectorAll('tr.run-row').length === 20",
                           timeout=60_000)
    return (time.perf_counter() - began) * 1000


def ui(platform: Platform, results: Results, runs: int = 10_000, repetitions: int = 3) -> None:
    """Record ``ui_list_10k_ms`` and ``ui_assets_kb``."""
    from bench_runs import serial_spec
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    owner, token = bench_user("bench-ui@example.org")
    ids = insert_runs(owner, runs, "bench-ui-", "finished", serial_spec(["echo hello"]),
                      {"run_finished_at": None})
    vacuum_analyze("workflow")
    assets: dict[str, bytes] = {}

    def keep(response):
        path = response.url.removeprefix(platform.url).split("?")[0]
        if response.ok and not path.startswith("/api/"):
            assets[path] = response.body()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("response", keep)
        _sign_in(page, platform.url, token)
        shown = page.locator(".pager span").inner_text()
        if f"{runs} runs" not in shown:
            raise RuntimeError(f"the list does not show {runs} runs: {shown!r}")
        medians, windows = [], []
        for _ in range(repetitions):
            window = platform.window()
            medians.append(statistics.median(_first_page_ms(page, platform.url)
                                             for _ in range(LOADS)))
            windows.append(window.close())
        page.goto(f"{platform.url}/details/{ids[-1]}")
        page.wait_for_selector("svg.graph", timeout=60_000)
        browser.close()
    results.add("ui_list_10k_ms", medians, "ms", windows, 1,
                note=f"{runs} runs; navigation to 20 rows drawn, median of {LOADS} loads")
    compressed = sum(len(gzip.compress(body, 6)) for body in assets.values())
    results.add("ui_assets_kb", compressed / 1024, "KiB", None, 1,
                note=f"{len(assets)} files of the runs list and a run's page, gzip")
    results.details["ui_assets_raw_kb"] = round(sum(map(len, assets.values())) / 1024, 1)
