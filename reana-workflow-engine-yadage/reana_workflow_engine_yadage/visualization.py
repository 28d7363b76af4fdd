"""The pictures of a run REANA's yadage engine leaves in ``_yadage/``.

REANA runs yadage with ``visualize=True``: adage's default trackers write
``_yadage/adage/adagesnap.txt`` (text snapshots of the DAG) and
``_yadage/adage/workflow.gif`` (the DAG's states over the run, 41 Graphviz frames
joined by ImageMagick's ``convert``), and yadage draws the stage graph as
``_yadage/yadage_workflow_instance.{dot,png,pdf}``. The same files are written
here, the GIF joined with Pillow instead of ImageMagick (not installed on the
platform's hosts); nothing here ever fails a run: a picture that cannot be drawn
is a warning in the logs.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile

import adage.visualize
from adage.trackers import GifTracker, TextSnapShotTracker

ADAGE_DIR = "adage"
GIF_FRAMES = 40
"""adage's default: frames 0..40 of the run's timeline."""
GIF_FRAME_MILLISECONDS = 500
"""``convert -delay 50`` (hundredths of a second)."""
GIF_MAX_NODES = 200
"""Larger DAGs get no GIF: 41 Graphviz layouts of them would cost minutes at the run's end."""
SNAPSHOT_SECONDS = 15
"""adage's text snapshot interval in REANA (its ``loginterval``)."""
log = logging.getLogger("reana-workflow-engine-yadage")


class PillowGifTracker(GifTracker):
    """adage's ``GifTracker`` (one Graphviz PNG per frame), the frames joined by Pillow."""

    def finalize(self, adageobj) -> None:
        try:
            self._write_gif(adageobj)
        except Exception as error:  # noqa: BLE001 - a picture never fails a run
            log.warning("could not draw the workflow's GIF: %s", error)

    def _write_gif(self, adageobj) -> None:
        nodes = len(adageobj.dag.nodes())
        if not shutil.which("dot") or not nodes:
            return
        if nodes > GIF_MAX_NODES:
            log.info("no workflow GIF: %d nodes (at most %d are drawn)", nodes, GIF_MAX_NODES)
            return
        from PIL import Image

        os.makedirs(os.path.dirname(self.gifname), exist_ok=True)
        with tempfile.TemporaryDirectory(dir=os.path.dirname(self.gifname),
                                         prefix=".frames-") as frames_dir:
            paths = []
            for index in range(self.frames + 1):
                name = f"dag_{index:02}"
                adage.visualize.print_dag(adageobj.dag, name, frames_dir,
                                          time=index / float(self.frames))
                paths.append(os.path.join(frames_dir, f"{name}.png"))
            frames = [Image.open(path).convert("RGB") for path in paths]
            # All frames at the size of the first: Graphviz scales each to fit 18x12 in.
            size = frames[0].size
            frames = [frame if frame.size == size else frame.resize(size) for frame in frames]
            temporary = self.gifname + ".part"
            frames[0].save(temporary, format="GIF", save_all=True, append_images=frames[1:],
                           duration=GIF_FRAME_MILLISECONDS, loop=0)
            os.replace(temporary, self.gifname)


def adage_trackers(metadir: str) -> list:
    """adage's default visual trackers (REANA's ``visualize=True``), writing into
    ``<metadir>/adage/``; its log tracker is left out (the run's progress says it)."""
    workdir = os.path.join(metadir, ADAGE_DIR)
    return [
        PillowGifTracker(gifname=os.path.join(workdir, "workflow.gif"),
                         workdir=os.path.join(workdir, "track"), frames=GIF_FRAMES),
        TextSnapShotTracker(logfilename=os.path.join(workdir, "adagesnap.txt"),
                            mindelta=SNAPSHOT_SECONDS),
    ]


def write_stage_graph(metadir: str, workflow, run_log: logging.Logger) -> None:
    """The stage graph as Graphviz DOT (pure Python), rendered to PNG and PDF (as REANA's
    engine does) when Graphviz's ``dot`` is installed."""
    try:
        from yadage.visualize import provdotgraph

        dot_path = os.path.join(metadir, "yadage_workflow_instance.dot")
        with open(dot_path, "w") as stream:
            stream.write(provdotgraph(workflow).to_string())
        dot = shutil.which("dot")
        for image_format in ("png", "pdf") if dot else ():
            subprocess.run([dot, f"-T{image_format}", "-o", dot_path[:-3] + image_format,
                            dot_path], check=True, capture_output=True, timeout=60)
    except Exception as error:  # noqa: BLE001 - a picture never fails a run
        run_log.warning("could not draw the workflow graph: %s", error)
