"""The token dealer of a test stack: `jeeves-tokens init-dev` into a temporary directory, then
`jeeves-tokens` itself, with the dev clients (`dispatcher`, `dashboard`, `cli`, …) and their
secrets, so every service of the stack authenticates for real.
"""

from __future__ import annotations

import atexit
import base64
import json
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from support.services import ServiceProcess, entry_point


@dataclass
class Dealer:
    """The token dealer of a test stack, with the dev clients `jeeves-tokens init-dev` makes."""

    process: ServiceProcess
    directory: Path

    def env(self, client: str) -> dict[str, str]:
        """Settings that turn authentication on for a service acting as `client` (a service
        that calls nobody, like data, has no client secret)."""
        secret = self.directory / "secrets" / client
        env = {"JEEVES_TOKENS_URL": self.process.url}
        if secret.exists():
            env["JEEVES_AUTH_CLIENT_SECRET_FILE"] = str(secret)
        return env

    def token(self, client: str, audience: str) -> str:
        """A fresh access token for `client` (client-credentials grant, Basic auth)."""
        return client_token(self.process.url, self.directory, client, audience)


def client_token(tokens_url: str, directory: Path, client: str, audience: str) -> str:
    """A fresh access token from the dealer at `tokens_url` for dev client `client`, whose
    secret `jeeves-tokens init-dev` wrote under `directory` (a test stack's, or make dev's)."""
    secret = (directory / "secrets" / client).read_text().strip()
    user = f"{urllib.parse.quote_plus(client)}:{urllib.parse.quote_plus(secret)}"
    form = {"grant_type": "client_credentials", "audience": audience}
    request = urllib.request.Request(
        tokens_url + "/oauth/token",
        data=urllib.parse.urlencode(form).encode(),
        headers={
            "Authorization": "Basic " + base64.b64encode(user.encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["access_token"])


def start_dealer(started: list[ServiceProcess]) -> Dealer:
    """`jeeves-tokens init-dev` into a temporary directory, then the dealer itself."""
    directory = Path(tempfile.mkdtemp(prefix="jeeves-e2e-tokens-"))
    atexit.register(shutil.rmtree, directory, True)
    subprocess.run(
        [*entry_point("jeeves-tokens"), "init-dev", "--dir", str(directory)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    process = ServiceProcess(
        "jeeves-tokens",
        {
            "JEEVES_TOKENS_KEYS_DIR": str(directory / "keys"),
            "JEEVES_TOKENS_CLIENTS_FILE": str(directory / "clients.json"),
        },
    )
    started.append(process)
    process.start()
    return Dealer(process, directory)
