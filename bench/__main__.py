"""`python -m bench` (``make bench``): every benchmark, bounded, side by side with the bare frameworks;
prints the tables and writes bench/RESULTS.md.  ``--soak`` (``make soak``) also runs the reliability tests
large (REGBOT_SOAK=1) and writes their figures into RESULTS.md; without it the soak section of the
previous RESULTS.md is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import mail_turn, profile, scale, slack_turn
from bench.common import PYTHON, ROOT, machine

RESULTS = ROOT / "bench" / "RESULTS.md"
NOTES = ROOT / "bench" / "NOTES.md"
SOAK_START, SOAK_END = "<!-- soak:start -->", "<!-- soak:end -->"


def section(title: str, command: str, lines: list[str]) -> list[str]:
    return [f"## {title}", "", f"`{command}`", "", *lines, ""]


def kept_soak() -> list[str]:
    if not RESULTS.exists():
        return [SOAK_START, "Not run yet: `make soak`.", SOAK_END]
    found = re.search(re.escape(SOAK_START) + r".*?" + re.escape(SOAK_END), RESULTS.read_text(), re.S)
    return found.group(0).splitlines() if found else [SOAK_START, "Not run yet: `make soak`.", SOAK_END]


def soak() -> list[str]:
    """The reliability tests, large; each test appends its figures (JSON lines) to one file."""
    with tempfile.TemporaryDirectory(prefix="regbot-soak-") as tmp:
        figures_file = Path(tmp) / "figures.jsonl"
        env = {**os.environ, "REGBOT_SOAK": "1", "REGBOT_FIGURES": str(figures_file)}
        began = time.monotonic()
        done = subprocess.run(
            [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/reliability"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=3000,
            check=False,
        )
        elapsed = time.monotonic() - began
        summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
        records = (
            [json.loads(line) for line in figures_file.read_text().splitlines()]
            if figures_file.exists()
            else []
        )
    lines = [
        SOAK_START,
        "## Reliability, large (`make soak`)",
        "",
        f"`REGBOT_SOAK=1 pytest tests/reliability`: {summary} ({elapsed:.0f} s).",
        "",
        "| test | figures |",
        "|---|---|",
    ]
    for record in records:
        name = record.pop("test")
        lines.append(f"| {name} | " + ", ".join(f"{k}: {v}" for k, v in record.items()) + " |")
    lines.append(SOAK_END)
    if done.returncode != 0:
        print(done.stdout[-5000:], file=sys.stderr)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--soak", action="store_true", help="also the reliability tests, large")
    args = parser.parse_args()
    began = time.monotonic()
    info = machine()
    out: list[str] = [
        "# regbot benchmarks",
        "",
        "Written by `python -m bench` (`make bench`); every figure of a table is from the same run, regbot",
        "side by side with the bare framework on the same machine, so the ratios are what to read (absolute",
        "figures move with the machine and whatever else runs on it).  All traffic is on 127.0.0.1.",
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), Python {info['python']}, {info['system']}; "
        f"run {time.strftime('%Y-%m-%d %H:%M %Z')}.",
        "",
    ]

    print("Slack turn …", flush=True)
    levels = slack_turn.DEFAULT_LEVELS
    out += section(
        "Slack turn: signed message.im → reply posted",
        "python -m bench.slack_turn",
        slack_turn.tables(asyncio.run(slack_turn.measure(levels)), levels),
    )
    print("\n".join(out[-2 * len(levels) - 12 :]), flush=True)

    print("Mail turn …", flush=True)
    out += section(
        "Mail turn: 1 KB ISO-2022-JP mail in → reply .eml written",
        "python -m bench.mail_turn",
        mail_turn.table(asyncio.run(mail_turn.measure()), 8),
    )
    print("\n".join(out[-6:]), flush=True)

    print("Scale …", flush=True)
    sizes = scale.DEFAULT_SIZES
    out += section(
        "Scale: a turn with 100 / 10 000 / 100 000 stored conversations (16 at a time)",
        "python -m bench.scale",
        scale.table(asyncio.run(scale.measure(sizes, scale.TURNS)), sizes),
    )
    print("\n".join(out[-8:]), flush=True)

    print("Memory …", flush=True)
    served = 10_000 if args.soak else 2_000
    out += section(
        "Memory: regbot serve with 10 000 open conversations",
        f"python -m bench.scale --rss --open 10000 --serve {served}",
        scale.rss_table(asyncio.run(scale.rss(10_000, served))),
    )
    print("\n".join(out[-6:]), flush=True)

    print("Profile …", flush=True)
    out += section(
        "Profile: where a Slack turn's time goes (regbot serve under cProfile, 16 at a time)",
        "python -m bench.profile",
        profile.run(600, 16),
    )
    out += section(
        "Profile: where a mail turn's time goes (8 senders)",
        "python -m bench.profile --mail --events 200 --concurrency 8",
        profile.run(200, 8, mail=True),
    )
    if NOTES.exists():
        out += [*NOTES.read_text().splitlines(), ""]
    out += soak() if args.soak else kept_soak()
    RESULTS.write_text("\n".join(out).rstrip() + "\n")
    print(f"\nwritten {RESULTS.relative_to(ROOT)} in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
