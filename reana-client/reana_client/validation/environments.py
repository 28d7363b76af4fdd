"""Checks of the container images named in reana.yaml (``validate --environments``).

Offline only: the tag is checked (none, ``latest`` and ``master`` warn) and the
image is looked up among local images with ``podman images`` or ``docker
images`` when one of them is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from reana_client.output import message

SUSPECT_TAGS = ("latest", "master", "")
_IMAGE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._\-/:@]*$")


def images_of(spec: dict) -> list[str]:
    """Every distinct ``environment`` image of a serial workflow, in order."""
    workflow = spec.get("workflow") or {}
    images = []
    if workflow.get("type") == "serial":
        for step in (workflow.get("specification") or {}).get("steps") or []:
            image = step.get("environment")
            if image and image not in images:
                images.append(image)
    return images


def split_image(image: str) -> tuple[str, str]:
    """``repo/name:tag`` → (``repo/name``, ``tag``); no tag gives ``""``."""
    if "@" in image:
        return image.split("@", 1)[0], image.split("@", 1)[1]
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return image, ""
    return name, tag


def check_tag(image: str) -> tuple[str, str]:
    """(message type, message) for the image's tag."""
    if not _IMAGE.match(image):
        return "error", f"Environment image '{image}' contains illegal characters."
    name, tag = split_image(image)
    if not tag:
        return "warning", f"Environment image {image} does not have an explicit tag."
    if tag in SUSPECT_TAGS:
        return "warning", f"Using '{tag}' tag is not recommended in {name} environment image."
    return "success", f"Environment image {image} has the correct format."


def local_images() -> set[str] | None:
    """``repository:tag`` of local images, or None when no container tool exists."""
    for tool in ("podman", "docker"):
        if shutil.which(tool):
            try:
                out = subprocess.run(
                    [tool, "images", "--format", "{{.Repository}}:{{.Tag}}"],
                    capture_output=True,
                    text=True,
                    timeout=20,
                    check=True,
                ).stdout
            except (OSError, subprocess.SubprocessError):
                continue
            return {line.strip() for line in out.splitlines() if line.strip()}
    return None


def _normalise(image: str) -> set[str]:
    name, tag = split_image(image)
    tag = tag or "latest"
    names = {name}
    if name.startswith("docker.io/"):
        names.add(name[len("docker.io/") :])
    if name.startswith("docker.io/library/"):
        names.add(name[len("docker.io/library/") :])
    if "/" not in name:
        names.update({f"docker.io/library/{name}", f"library/{name}"})
    return {f"{n}:{tag}" for n in names}


def validate_environments(spec: dict, pull: bool = False) -> None:
    """Print the tag and local-existence checks of each image; exit 1 on an error."""
    failed = False
    local = local_images()
    for image in images_of(spec):
        kind, text = check_tag(image)
        message(text, kind, indented=True)
        failed |= kind == "error"
        if local is None:
            message(
                f"Existence of environment image {image} could not be verified: "
                "no local container engine (podman or docker) found.",
                "warning",
                indented=True,
            )
        elif _normalise(image) & local:
            message(f"Environment image {image} exists locally.", "success", indented=True)
        else:
            message(f"Environment image {image} does not exist locally.", "warning", indented=True)
        if pull:
            message(
                "UID/GIDs validation needs the image pulled; skipped (offline).",
                "warning",
                indented=True,
            )
    if failed:
        sys.exit(1)
