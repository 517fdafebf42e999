"""What monitoring costs: a scrape per service (CPU, bytes, samples) and rule evaluation.

Starts `make dev` (every service, Prometheus scraping every `--interval` seconds with the
chart's rules, Alertmanager), sends a little real traffic so every metric family has its label
sets, then, per service, asks `/metrics` and — the baseline — `/healthz` `--requests` times
each, one after the other on loopback, and reads the service's own CPU time (/proc) around
each series. Prints per service: bytes and samples per scrape, server CPU per `/metrics` and per
`/healthz` (medians of `--rounds`), their ratio, and the CPU share one scrape every 30 s costs.
Then Prometheus's own figures: evaluation time of each rule group
(`prometheus_rule_group_last_duration_seconds`, median over `--samples` evaluations) and
scrape duration per job. Bounded: `--requests` x 2 x services requests, loopback only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests")]

from jeeves.localstack.measuring import cpu_seconds  # noqa: E402
from support.devstack import DevStack, private_data_dir, remove  # noqa: E402
from support.prometheus import PrometheusAPI  # noqa: E402
from support.slack import SlackEmulator  # noqa: E402

SKIP = {"postgres", "etcd", "prometheus", "alertmanager"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per series")
    parser.add_argument("--rounds", type=int, default=3, help="series per endpoint (median)")
    parser.add_argument("--interval", type=float, default=5.0, help="Prometheus scrape, s")
    parser.add_argument("--samples", type=int, default=12, help="rule evaluations to sample")
    return parser.parse_args()


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback)
        return bytes(response.read())


def cpu_per_request(pid: int, url: str, requests: int, rounds: int) -> float:
    """Median over `rounds` of the server's CPU seconds per request to `url`."""
    per_round = []
    for _ in range(rounds):
        before = cpu_seconds(pid)
        for _ in range(requests):
            fetch(url)
        per_round.append((cpu_seconds(pid) - before) / requests)
    return statistics.median(per_round)


def traffic(slack: SlackEmulator) -> None:
    since = time.time()
    texts = ["echo bench", "weather in Lisbon", "remember my location is Porto", "help", "hm"]
    for text in texts:
        slack.send_mention(text, channel="C0GENERAL")
    slack.wait_for_messages(len(texts), channel="C0GENERAL", since=since, timeout=180)


def main() -> int:
    args = parse_args()
    data_dir = private_data_dir()
    stack = DevStack(data_dir, "--scrape-interval", f"{args.interval:g}")
    print(f"==> starting make dev (Prometheus every {args.interval:g}s)", flush=True)
    try:
        stack.start()
        urls = stack.urls
        traffic(SlackEmulator(urls["slack-emulator"]))
        print(f"==> {args.rounds} x {args.requests} requests per endpoint and service", flush=True)
        print(
            f"\n{'service':<18}{'bytes':>8}{'samples':>9}{'CPU/metrics':>13}"
            f"{'CPU/healthz':>13}{'ratio':>7}{'CPU @30s':>10}"
        )
        for name, url in sorted(urls.items()):
            if name in SKIP:
                continue
            pid = stack.pid_of(name)
            body = fetch(url + "/metrics")
            samples = sum(1 for line in body.decode().splitlines() if line and line[0] != "#")
            metrics = cpu_per_request(pid, url + "/metrics", args.requests, args.rounds)
            health = cpu_per_request(pid, url + "/healthz", args.requests, args.rounds)
            ratio = metrics / health if health > 0 else float("nan")
            share = metrics / 30 * 100
            print(
                f"{name:<18}{len(body):>8}{samples:>9}{metrics * 1e6:>11.0f}µs"
                f"{health * 1e6:>11.0f}µs{ratio:>7.1f}{share:>9.4f}%",
                flush=True,
            )
        prom = PrometheusAPI(urls["prometheus"])
        print(f"\n==> rule groups, {args.samples} evaluations each", flush=True)
        seen: dict[str, list[float]] = {}
        while min((len(v) for v in seen.values()), default=0) < args.samples:
            for row in prom.query("prometheus_rule_group_last_duration_seconds"):
                group = row["metric"]["rule_group"].rsplit(";", 1)[-1]
                seen.setdefault(group, []).append(float(row["value"][1]))
            time.sleep(args.interval)
        for group, values in sorted(seen.items()):
            print(
                f"{group:<24} median {statistics.median(values) * 1000:7.2f} ms  "
                f"max {max(values) * 1000:7.2f} ms per evaluation"
            )
        scrape = prom.query("avg_over_time(scrape_duration_seconds[2m])")
        durations = {r["metric"]["job"]: float(r["value"][1]) * 1000 for r in scrape}
        print(
            "\nscrape duration (Prometheus's view, ms): "
            + json.dumps({k: round(v, 1) for k, v in sorted(durations.items())})
        )
    finally:
        code = stack.stop()
        remove(data_dir)
        print(f"==> make dev stopped (exit {code})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
