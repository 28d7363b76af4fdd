"""The example analysis in podman containers: the same outputs as everywhere (issue 19).

examples/resonance-fit runs with the project's client on a platform whose local jobs run in
podman (``REANA_CONTAINER_RUNTIME=podman``), in a locally imported image (registry pulls do
not work here): the host's Python 3.11 with its standard library, bash and busybox, tagged
for the example's two steps' images. Its outputs have the reference digests
(tests/same_result.py) and its provenance records podman's version and the image's digest.
Skipped with the reason when podman or the image's parts are missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import start_platform, stop_platform
from tests.same_result import run_example

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
IMAGE = "localhost/reana-same-result-python:3.11"
# This VM lacks CAP_SYS_RESOURCE and crun refuses its hybrid cgroups (machine-notes/podman).
CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""
PARTS = ["/usr/bin/python3.11", "/usr/lib/python3.11", "/bin/bash", "/bin/busybox"]
LIBRARIES = ["/lib64/ld-linux-x86-64.so.2"] + [
    f"/lib/x86_64-linux-gnu/{name}" for name in
    ("libc.so.6", "libm.so.6", "libz.so.1", "libexpat.so.1", "libtinfo.so.6")]
EXCLUDED = ("test", "idlelib", "tkinter", "ensurepip", "lib2to3", "site-packages",
            "dist-packages", "__pycache__", "turtledemo")


def _build_image(env: dict, directory: Path) -> None:
    root = directory / "rootfs"
    for part in PARTS + LIBRARIES:
        target = root / part.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.isdir(part):
            shutil.copytree(part, target, symlinks=True,
                            ignore=shutil.ignore_patterns(*EXCLUDED))
        else:
            shutil.copy2(os.path.realpath(part), target)
    (root / "usr/bin/python3").symlink_to("python3.11")
    busybox = root / "bin" / "busybox"
    for applet in ("mkdir", "cat", "echo", "sh", "ls", "rm", "tr", "wc"):
        (busybox.parent / applet).symlink_to("busybox")
    (root / "tmp").mkdir(mode=0o1777)
    tar = subprocess.Popen(["tar", "-C", str(root), "-cf", "-", "."], stdout=subprocess.PIPE)
    subprocess.run(["podman", "import", "-q", "--change", "ENV PATH=/usr/bin:/bin", "-", IMAGE],
                   stdin=tar.stdout, env=env, check=True, stdout=subprocess.DEVNULL)
    tar.wait()


@pytest.fixture(scope="module")
def podman_platform(tmp_path_factory):
    missing = [p for p in ["podman"] if not shutil.which(p)] + [
        p for p in PARTS + LIBRARIES if not os.path.exists(p)]
    if missing:
        pytest.skip(f"podman or the parts of the test image are missing: {missing}")
    directory = tmp_path_factory.mktemp("same-podman")
    conf = directory / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    env = dict(os.environ, CONTAINERS_CONF=str(conf))
    if subprocess.run(["podman", "image", "exists", IMAGE], env=env).returncode != 0:
        _build_image(env, directory)
    live = start_platform(directory / "reana-home", "embedded", {
        "REANA_CONTAINER_RUNTIME": "podman", "CONTAINERS_CONF": str(conf)})
    live.podman_env = env
    yield live
    stop_platform(live)


def _use_local_image(spec: dict) -> None:
    for step in spec["workflow"]["specification"]["steps"]:
        step["environment"] = IMAGE  # the locally imported image, for both images


def test_example_in_podman_gives_the_reference_outputs(podman_platform, tmp_path):
    platform = podman_platform
    jobs = run_example(platform, tmp_path, "fitpodman", edit=_use_local_image)
    image_id = subprocess.run(["podman", "image", "inspect", "--format", "{{.Digest}} {{.Id}}",
                               IMAGE], env=platform.podman_env, capture_output=True, text=True,
                              check=True).stdout.split()
    version = subprocess.run(["podman", "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[-1]
    for job in jobs:
        assert job["image"] == IMAGE
        assert job["runtime"] == f"podman {version}"
        assert job["image_digest"] and (job["image_digest"] in image_id
                                        or job["image_digest"] == f"sha256:{image_id[-1]}"), job
