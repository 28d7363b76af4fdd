"""What a condor_starter does for one job of the double: sandbox, process, limits, transfer.

Shared file system (``should_transfer_files = NO`` or ``IF_NEEDED``: one machine is one
file-system domain): the job runs in its ``Iwd``. File transfer (``YES``): the inputs
(``transfer_input_files``, relative to ``Iwd``; ``dir/`` sends the folder's content) and the
executable are copied into a scratch directory, the job runs there, and at exit the new or
changed files (or only ``transfer_output_files``) come back into ``Iwd`` (or where
``transfer_output_remaps`` says); stdout/stderr go to
``_condor_stdout``/``_condor_stderr`` in the scratch directory and are copied to ``output`` /
``error`` at the end, unless ``stream_output``/``stream_error`` are true.

The process runs as the job's owner (when the schedd runs as root) in a session of its own,
with the environment HTCondor gives a job: the submit description's ``environment`` plus
``_CONDOR_SCRATCH_DIR``, ``_CONDOR_JOB_IWD``, ``_CONDOR_SLOT``, ``BATCH_SYSTEM=HTCondor`` and
``OMP_NUM_THREADS`` = ``request_cpus``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path


def _owner_ids(owner: str) -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(owner)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def _chown_tree(path: Path, ids: tuple[int, int] | None) -> None:
    if ids is None:
        return
    os.chown(path, *ids)
    for directory, subdirs, files in os.walk(path):
        for name in subdirs + files:
            os.lchown(os.path.join(directory, name), *ids)


def _open_for(path: str, ids, append: bool = False):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "ab" if append else "wb")  # noqa: SIM115 - handed to the child
    if ids is not None:
        os.fchown(handle.fileno(), *ids)
    return handle


def session_rss_megabytes() -> dict[int, float]:
    """Resident memory of every session on the host (one pass over /proc), by session id."""
    totals: dict[int, float] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            session, rss = int(fields[3]), int(fields[21]) * page
        except (OSError, IndexError, ValueError):
            continue
        totals[session] = totals.get(session, 0.0) + rss / (1024 * 1024)
    return totals


class Starter:
    """Runs one job ad; ``wait()`` returns ``(exit_code, signal)``."""

    def __init__(self, ad: dict, execute_dir: Path, slot: int):
        self.ad = ad
        self.ids = _owner_ids(ad["Owner"])
        self.transfer = ad.get("ShouldTransferFiles") == "YES"
        self.scratch = (execute_dir / f"dir_{ad['ClusterId']}.{ad['ProcId']}"
                        if self.transfer else Path(ad["Iwd"]))
        self.slot = slot
        self.process: subprocess.Popen | None = None
        self._inputs: dict[str, float] = {}

    # --- input sandbox ----------------------------------------------------------------------
    def _transfer_in(self) -> str:
        iwd = Path(self.ad["Iwd"])
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True)
        items = [item.strip() for item in
                 self.ad.get("TransferInput", "").replace(",", " ").split() if item.strip()]
        for item in items:
            source = iwd / item
            if item.endswith("/") and source.is_dir():
                shutil.copytree(source, self.scratch, symlinks=True, dirs_exist_ok=True)
            elif source.is_dir():
                shutil.copytree(source, self.scratch / source.name, symlinks=True)
            elif source.exists():
                shutil.copy2(source, self.scratch / source.name)
            else:
                raise FileNotFoundError(f"transfer input file {source} does not exist")
        executable = self.ad["Cmd"]
        if self.ad.get("TransferExecutable", True):
            target = self.scratch / os.path.basename(executable)
            shutil.copy2(executable, target)
            executable = str(target)
        for path in self.scratch.rglob("*"):
            if path.is_file():
                self._inputs[str(path.relative_to(self.scratch))] = path.stat().st_mtime
        _chown_tree(self.scratch, self.ids)
        return executable

    # --- run ----------------------------------------------------------------------------------
    def start(self) -> None:
        executable = self._transfer_in() if self.transfer else self.ad["Cmd"]
        env = dict(self.ad.get("_environment", {}))
        env.update(_CONDOR_SCRATCH_DIR=str(self.scratch), _CONDOR_JOB_IWD=self.ad["Iwd"],
                   _CONDOR_SLOT=f"slot1_{self.slot}", BATCH_SYSTEM="HTCondor",
                   OMP_NUM_THREADS=str(self.ad.get("RequestCpus", 1)))
        out_path, err_path = self.ad.get("Out", "/dev/null"), self.ad.get("Err", "/dev/null")
        if self.transfer and not self.ad.get("StreamOut"):
            out_path = str(self.scratch / "_condor_stdout")
        if self.transfer and not self.ad.get("StreamErr"):
            err_path = str(self.scratch / "_condor_stderr")
        stdout = _open_for(out_path, self.ids)
        stderr = stdout if err_path == out_path else _open_for(err_path, self.ids)
        kwargs = {}
        if self.ids is not None:
            kwargs.update(user=self.ids[0], group=self.ids[1], extra_groups=[])
        try:
            self.process = subprocess.Popen(
                [executable, *self.ad.get("_argv", [])], cwd=str(self.scratch), env=env,
                stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, start_new_session=True,
                **kwargs)
        finally:
            stdout.close()
            if stderr is not stdout:
                stderr.close()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def wait(self) -> tuple[int | None, int | None]:
        code = self.process.wait()
        return (None, -code) if code < 0 else (code, None)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    # --- output sandbox -----------------------------------------------------------------------
    def transfer_out(self) -> None:
        """Bring outputs back into Iwd (file-transfer jobs) and drop the scratch directory."""
        if not self.transfer:
            return
        iwd = Path(self.ad["Iwd"])
        try:
            wanted = [item.strip() for item in
                      self.ad.get("TransferOutput", "").replace(",", " ").split() if item.strip()]
            if wanted:
                paths = [self.scratch / item for item in wanted]
            else:
                paths = [p for p in self.scratch.rglob("*") if p.is_file() and not p.is_symlink()
                         and self._inputs.get(str(p.relative_to(self.scratch))) !=
                         p.stat().st_mtime]
            skip = {"_condor_stdout", "_condor_stderr", os.path.basename(self.ad["Cmd"])}
            for path in paths:
                relative = path.relative_to(self.scratch)
                if str(relative) in skip or not path.exists():
                    continue
                target = Path(self.ad.get("_remaps", {}).get(str(relative), iwd / relative))
                target.parent.mkdir(parents=True, exist_ok=True)
                if path.is_dir():
                    shutil.copytree(path, target, symlinks=True, dirs_exist_ok=True)
                else:
                    shutil.copy2(path, target)
                if self.ids is not None:
                    os.chown(target, *self.ids)
            for name, attribute in (("_condor_stdout", "Out"), ("_condor_stderr", "Err")):
                source = self.scratch / name
                if source.exists() and self.ad.get(attribute, "/dev/null") != "/dev/null":
                    shutil.copy2(source, self.ad[attribute])
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def discard(self) -> None:
        """Drop the scratch directory without transferring (removed or held jobs)."""
        if self.transfer:
            shutil.rmtree(self.scratch, ignore_errors=True)
