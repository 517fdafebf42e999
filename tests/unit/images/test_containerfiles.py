"""The image definitions keep the contract: one `images/jeeves-X.Containerfile` per entry point
`jeeves-X`, CMD = the entry point, UID/GID 10001, port 8080, SIGTERM, the OCI labels, and the
shared base. Pure: reads the files, builds nothing (`make test-images` runs the images).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts" / "images"))

from imagestore import Image, deployables  # noqa: E402

pytestmark = pytest.mark.unit

INFRASTRUCTURE = {"jeeves-postgres", "jeeves-etcd"}
LABELS = ("title", "version", "revision", "source")


def entry_points() -> set[str]:
    names: set[str] = set()
    for pyproject in (ROOT / "pyproject.toml", ROOT / "operator" / "pyproject.toml"):
        scripts = tomllib.loads(pyproject.read_text())["project"]["scripts"]
        names |= {name for name in scripts if name.startswith("jeeves-")}
    return names


def instructions(image: Image, keyword: str) -> list[str]:
    text = image.containerfile.read_text().replace("\\\n", " ")
    return re.findall(rf"^{keyword}\s+(.*)$", text, flags=re.MULTILINE)


SERVICES = [image for image in deployables() if image.name not in INFRASTRUCTURE]


def test_every_deployable_entry_point_has_an_image_and_no_image_lacks_one() -> None:
    assert {image.name for image in SERVICES} == entry_points()
    assert {image.name for image in deployables()} >= INFRASTRUCTURE


@pytest.mark.parametrize("image", SERVICES, ids=lambda image: image.name)
def test_service_images_keep_the_contract(image: Image) -> None:
    assert image.command() == [image.name], "CMD is the entry point"
    base = "JEEVES_OPERATOR_BASE" if image.name == "jeeves-operator" else "JEEVES_BASE"
    assert instructions(image, "FROM") == [f"${{{base}}}"], "one shared base"
    assert instructions(image, "USER") == ["10001:10001"]
    assert instructions(image, "EXPOSE") == ["8080"]
    assert instructions(image, "STOPSIGNAL") == ["SIGTERM"]
    assert not instructions(image, "ENTRYPOINT"), "`jeeves-X migrate` must run as a command"


@pytest.mark.parametrize("image", deployables(), ids=lambda image: image.name)
def test_every_image_carries_the_oci_labels_and_a_non_root_user(image: Image) -> None:
    (labels,) = instructions(image, "LABEL")
    for label in LABELS:
        assert f"org.opencontainers.image.{label}=" in labels, label
    assert f'title="{image.name}"' in labels
    (user,) = instructions(image, "USER")
    assert not user.startswith(("0", "root")), user
    assert instructions(image, "STOPSIGNAL"), "an explicit stop signal"


def test_the_infrastructure_images_match_their_official_counterparts() -> None:
    images = {image.name: image for image in deployables()}
    postgres = images["jeeves-postgres"]
    assert instructions(postgres, "USER") == ["999:999"], "the official postgres image's UID"
    assert instructions(postgres, "EXPOSE") == ["5432"]
    etcd = images["jeeves-etcd"]
    assert instructions(etcd, "ENTRYPOINT") == ['["etcd"]']
    assert instructions(etcd, "USER") == ["10001:10001"]
