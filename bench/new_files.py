"""What ``new_files_only`` costs a run: taking the new files of a folder that holds many already taken.

A pipeline with one ``new_files_only`` score step; a first run takes N files (as a folder of N ingest windows
would hold), then a next run lists the N files plus 60 new ones and takes the 60: the hourly run of a folder that
has grown for N minutes. Times ``RunRegistry.take_new_inputs`` alone (the listing of the folder is the store's
cost and not counted), on SQLite and, when ``--pg`` names a server, on PostgreSQL in a schema of its own.

    python bench/new_files.py                                   # 10k, 100k and 525k files (a year of minutes)
    python bench/new_files.py --sizes 10000 --pg postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from modelport import Workspace
from modelport.batch import PipelineRegistry, RunRegistry

HERE = Path(__file__).resolve().parent
PIPELINE = "name: p\nsteps:\n  - {name: score, type: score, model: m, input: x, new_files_only: true}\n"


def measure(db_url: str | None, sizes: list[int], repeat: int) -> dict[str, dict[str, float]]:
    home = Path(tempfile.mkdtemp(prefix="modelport-bench-new-files-"))
    (home / "p.yaml").write_text(PIPELINE)
    out: dict[str, dict[str, float]] = {}
    with Workspace(home / "ws", db_url=db_url) as ws:
        PipelineRegistry(ws).register(home / "p.yaml")
        runs = RunRegistry(ws)
        for n in sizes:
            files = [f"s3://lake/sensors/{n}/date=2026-12-07/{i:07d}-1m.parquet" for i in range(n)]
            started = time.perf_counter()
            step = f"score-{n}"  # a step of its own per size: what the others took does not count
            assert len(runs.take_new_inputs(runs.create("p").id, step, files)) == n
            first = time.perf_counter() - started
            nexts = []
            for r in range(repeat):
                new = [f"s3://lake/sensors/{n}/new/{r}/{i:02d}-1m.parquet" for i in range(60)]
                started = time.perf_counter()
                assert len(runs.take_new_inputs(runs.create("p").id, step, files + new)) == 60
                nexts.append(time.perf_counter() - started)
                files += new
            out[str(n)] = {"first_run_s": first, "next_run_median_s": statistics.median(nexts)}
            median = out[str(n)]["next_run_median_s"]
            print(f"  {n:>9,} files taken: first run {first:.2f} s; a next run, 60 new: {median:.3f} s")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,525600", help="files taken before the next run")
    parser.add_argument("--repeat", type=int, default=3, help="next runs per size (median)")
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL to measure too (a schema is made and dropped)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    report: dict[str, object] = {"date": str(date.today()), "command": " ".join(["python", *sys.argv])}
    print("sqlite")
    report["sqlite"] = measure(None, sizes, args.repeat)
    if args.pg:
        import sqlalchemy as sa

        schema = "bench_" + uuid.uuid4().hex[:8]
        engine = sa.create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        try:
            print("postgresql")
            separator = "&" if "?" in args.pg else "?"
            report["postgresql"] = measure(f"{args.pg}{separator}options=-csearch_path%3D{schema}", sizes, args.repeat)
        finally:
            with engine.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    out = Path(args.out) if args.out else HERE / "results" / f"new-files-{date.today()}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
