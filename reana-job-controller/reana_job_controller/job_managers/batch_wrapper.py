"""The job wrapper of batch backends: how a step's command runs on a cluster node.

The script's first line of output says how the step runs: under Apptainer or
Singularity when the node has one (``unpacked_img`` uses CERN's unpacked image
tree on CVMFS, as REANA does; otherwise ``docker://<image>``), else directly on
the node with the image ignored. Used as the Slurm batch script; stdout and
stderr go to one log file.
"""

from __future__ import annotations

import shlex

UNPACKED_IMAGES_ROOT = "/cvmfs/unpacked.cern.ch/registry.hub.docker.com"


def image_reference(image: str, unpacked: bool) -> str:
    """What Apptainer runs for ``image``: CVMFS's unpacked tree or a docker:// reference."""
    if unpacked:
        image = image.removeprefix("docker.io/")
        name = image if ":" in image.rsplit("/", 1)[-1] else f"{image}:latest"
        return f"{UNPACKED_IMAGES_ROOT}/{name}"
    return f"docker://{image}"


def batch_script(*, cmd: str, image: str, unpacked: bool, workdir: str, bind: str,
                 env: dict[str, str]) -> str:
    """The text of a batch script (Slurm's ``sbatch`` script) running ``cmd`` in ``workdir``."""
    exports = "".join(f"export {name}={shlex.quote(str(value))}\n"
                      for name, value in sorted(env.items()) if name.isidentifier())
    reference = image_reference(image, unpacked) if image else ""
    return f"""#!/bin/bash
{exports}__reana_cmd={shlex.quote(cmd)}
__reana_image={shlex.quote(reference)}
__reana_runtime=
if [ -n "$__reana_image" ]; then
  for __reana_candidate in apptainer singularity; do
    if command -v "$__reana_candidate" >/dev/null 2>&1; then
      __reana_runtime=$__reana_candidate; break
    fi
  done
fi
cd {shlex.quote(workdir)} || exit 1
if [ -n "$__reana_runtime" ]; then
  echo "[reana] running under $__reana_runtime on $(hostname) in image $__reana_image"
  exec "$__reana_runtime" exec --bind {shlex.quote(bind)} --pwd {shlex.quote(workdir)} \\
    "$__reana_image" bash -c "$__reana_cmd"
fi
echo "[reana] running directly on node $(hostname): no apptainer/singularity;" \\
  "image {shlex.quote(image or '-')} not used"
exec bash -c "$__reana_cmd"
"""
