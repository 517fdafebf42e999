"""Token benchmarks: verification cost per request, and token issue rate of the real dealer.

1. Verification (in this process, warm JWKS cache), microseconds per token, median of
   `--repeats` rounds of `--count` tokens, compared with two baselines measured in the same run:
   - `hmac+json`   — HMAC-SHA256 over the signing input and a JSON parse of the payload (what a
                     bare shared-secret check costs);
   - `pyjwt-nocheck` — PyJWT decode with signature and claim checks off (parsing only);
   - `verify_token`  — the kit's pure check (RS256 pinned, aud/iss/exp/nbf/iat/sub);
   - `Verifier.verify` — the same through the async verifier and its JWKS cache.
2. Issue rate: one real `jeeves-tokens` process on loopback, `--concurrency` keep-alive clients
   for `--duration` seconds (`jeeves.localstack.measuring.drive`): `POST /oauth/token` (client
   secret verified from the warm cache, RS256 signature per token) against `GET /healthz` on
   the same process, with the server's CPU per request. The cold cost of one scrypt secret
   check is printed for reference.

Bounded in time; traffic only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import jwt

from jeeves.kit.auth.verify import JwksCache, Verifier, parse_jwks, verify_token
from jeeves.localstack.measuring import Figures, drive
from jeeves.localstack.ports import free_port, wait_until
from jeeves.tokens.domain.grant import build_claims, sign
from jeeves.tokens.domain.keys import generate_key, jwks, plan_keys
from jeeves.tokens.domain.secrets import hash_secret
from jeeves.tokens.keystore import write_key

BIN = Path(sys.executable).parent
ISSUER = "jeeves-tokens"
CLIENT, SECRET = "bench", "bench-secret-0123456789abcdef"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="tokens per verification round")
    parser.add_argument("--repeats", type=int, default=5, help="verification rounds")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per HTTP mode")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent HTTP clients")
    return parser.parse_args()


def time_round(func: Callable[[str], object], tokens: list[str]) -> float:
    started = time.perf_counter()
    for token in tokens:
        func(token)
    return (time.perf_counter() - started) / len(tokens) * 1e6


def verification(count: int, repeats: int) -> None:
    now = time.time()
    key = generate_key(now=now, sign_from=now)
    keys = parse_jwks(jwks(plan_keys([key], now=now, ttl_s=900, grace_s=0)))
    tokens = [
        sign(
            build_claims(
                issuer=ISSUER,
                client_id="dispatcher",
                audience="echo",
                scopes=frozenset({"act"}),
                now=int(now),
                ttl_s=900,
            ),
            key,
        )
        for _ in range(count)
    ]
    secret = os.urandom(32)

    def hmac_json(token: str) -> object:
        head, payload, signature = token.rsplit(".", 2)
        digest = hmac.new(secret, f"{head}.{payload}".encode(), hashlib.sha256).digest()
        hmac.compare_digest(digest, base64.urlsafe_b64decode(signature + "=="))
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    def pyjwt_nocheck(token: str) -> object:
        return jwt.decode(token, options={"verify_signature": False})

    def ours(token: str) -> object:
        return verify_token(token, keys, audience="echo", issuer=ISSUER, leeway_s=30)

    async def fetch() -> object:
        return jwks(plan_keys([key], now=now, ttl_s=900, grace_s=0))

    verifier = Verifier(JwksCache(fetch), audience="echo", issuer=ISSUER, leeway_s=30)
    loop = asyncio.new_event_loop()

    def through_verifier(token: str) -> object:
        return loop.run_until_complete(verifier.verify(token))

    async def verify_all() -> None:
        for token in tokens:
            await verifier.verify(token)

    def verifier_round() -> float:
        started = time.perf_counter()
        loop.run_until_complete(verify_all())
        return (time.perf_counter() - started) / len(tokens) * 1e6

    through_verifier(tokens[0])  # warm the JWKS cache
    rounds: dict[str, list[float]] = {name: [] for name in ("hmac", "parse", "pure", "full")}
    for _ in range(repeats):  # interleaved, so load on the machine hits every mode alike
        rounds["hmac"].append(time_round(hmac_json, tokens))
        rounds["parse"].append(time_round(pyjwt_nocheck, tokens))
        rounds["pure"].append(time_round(ours, tokens))
        rounds["full"].append(verifier_round())
    loop.close()
    baseline, parse_only, pure, full = (
        statistics.median(rounds[name]) for name in ("hmac", "parse", "pure", "full")
    )
    print(f"verification, {count} tokens x {repeats} rounds (median µs per token)")
    print(f"  hmac+json        {baseline:8.1f} µs   (baseline)")
    print(f"  pyjwt-nocheck    {parse_only:8.1f} µs   ({parse_only / baseline:.1f}x baseline)")
    print(f"  verify_token     {pure:8.1f} µs   ({pure / baseline:.1f}x baseline)")
    print(f"  Verifier.verify  {full:8.1f} µs   ({full / baseline:.1f}x baseline)")


@contextmanager
def dealer() -> Iterator[tuple[str, int]]:
    with tempfile.TemporaryDirectory(prefix="jeeves-bench-tokens-") as tmp:
        root = Path(tmp)
        now = time.time()
        write_key(root / "keys", generate_key(now=now, sign_from=now - 1))
        clients = {
            "clients": {
                CLIENT: {"secret_hash": hash_secret(SECRET), "audiences": ["*"], "scopes": ["act"]}
            }
        }
        (root / "clients.json").write_text(json.dumps(clients))
        port = free_port()
        env = {
            **os.environ,
            "JEEVES_BIND": f"127.0.0.1:{port}",
            "JEEVES_LOG_LEVEL": "warning",
            "JEEVES_TOKENS_KEYS_DIR": str(root / "keys"),
            "JEEVES_TOKENS_CLIENTS_FILE": str(root / "clients.json"),
        }
        proc = subprocess.Popen(
            [str(BIN / "jeeves-tokens")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _ready(url, proc), timeout=30, what="jeeves-tokens /readyz")
            yield url, proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _ready(url: str, proc: subprocess.Popen[bytes]) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(
            f"jeeves-tokens exited: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=1) as response:  # noqa: S310
            return response.status == 200
    except OSError:
        return False


async def issue_modes(url: str, pid: int, duration: float, concurrency: int) -> list[Figures]:
    """Warm the secret cache, then measure `/healthz` (baseline) and `/oauth/token`."""
    basic = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}"}
    form = {"grant_type": "client_credentials", "audience": "echo"}
    async with aiohttp.ClientSession() as session:

        async def healthz() -> bool:
            async with session.get(url + "/healthz") as response:
                await response.read()
                return response.status == 200

        async def token() -> bool:
            async with session.post(url + "/oauth/token", data=form, headers=headers) as response:
                await response.read()
                return response.status == 200

        await token()  # the secret is verified once (scrypt), then served from the cache
        return [
            await drive("healthz", healthz, duration, concurrency, pid),
            await drive("token", token, duration, concurrency, pid),
        ]


def issue_rate(duration: float, concurrency: int) -> None:
    started = time.perf_counter()
    hash_secret(SECRET)
    scrypt_ms = (time.perf_counter() - started) * 1000
    with dealer() as (url, pid):
        floor, tokens = asyncio.run(issue_modes(url, pid, duration, concurrency))
    print(f"issue rate, one jeeves-tokens process, {concurrency} clients x {duration:.0f} s")
    print("  " + floor.line(None))
    print("  " + tokens.line(floor))
    print(f"  tokens/s = {tokens.rate / floor.rate:.0%} of the /healthz rate")
    print(f"  cold secret check (scrypt n=2^14) {scrypt_ms:.0f} ms, once per client per 5 min")


def main() -> None:
    args = parse_args()
    verification(args.count, args.repeats)
    issue_rate(args.duration, args.concurrency)


if __name__ == "__main__":
    main()
