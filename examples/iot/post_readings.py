"""POST rows of the IoT readings to a running ``modelport ingest --http``, as one list: a stand-in for sensors.

python examples/iot/post_readings.py 0 1800 --url http://127.0.0.1:8001/readings
python examples/iot/post_readings.py 1800 3600 --url http://127.0.0.1:8001/readings --key "$KEY"
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

READINGS = Path(__file__).resolve().parents[1] / "data" / "sensor_data.csv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("start", type=int, help="first row (0 is the first reading)")
    parser.add_argument("stop", type=int, help="the row after the last")
    parser.add_argument("--url", default="http://127.0.0.1:8001/readings", help="ingest's POST /readings")
    parser.add_argument("--key", default=None, help="an API key, when ingest asks for one")
    parser.add_argument("--readings", type=Path, default=READINGS, help="a CSV of TS,Device,Tag,Value")
    args = parser.parse_args()
    with args.readings.open(newline="") as f:
        rows = list(csv.DictReader(f))[args.start : args.stop]
    body = [{"TS": r["TS"], "Device": int(r["Device"]), "Tag": int(r["Tag"]), "Value": float(r["Value"])} for r in rows]
    headers = {"Content-Type": "application/json"}
    if args.key:
        headers["Authorization"] = f"Bearer {args.key}"
    request = urllib.request.Request(args.url, json.dumps(body).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            print(answer.read().decode())
    except urllib.error.HTTPError as exc:
        print(f"error: {exc.code} {exc.read().decode()}", file=sys.stderr)
        return 1
    except urllib.error.URLError as exc:
        print(f"error: cannot reach {args.url}: {exc.reason} (is modelport ingest --http running?)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
