"""The double's schedd (with its own startd): a job queue that runs jobs as local processes.

Clients (:mod:`htcondor_double.cli`) talk to it over a Unix socket, one JSON request
per connection; the peer's uid (``SO_PEERCRED``) is the job owner, as HTCondor's
file-system authentication makes it. The queue and the next cluster id survive a
restart (``<state>/job_queue.json``); a restart puts jobs that were running back to
Idle (their processes are killed), as a schedd restart without reconnection does.
Ended jobs leave the queue for the history (``<state>/history``, one JSON ad a line).

Job states follow HTCondor's ``JobStatus``: 1 Idle, 2 Running, 3 Removed, 4 Completed,
5 Held (6 Transferring Output and 7 Suspended are not produced). Policies applied:

* slots: ``--cpus`` CPUs; an Idle job starts when its ``RequestCpus`` fit;
* memory: a job whose processes' RSS exceeds ``RequestMemory`` is killed and held
  (``HoldReasonCode`` 34, JobOutOfResources);
* runtime: a job running longer than its ``MaxRuntime`` (CERN's attribute, also set from
  ``+JobFlavour``) is removed by the system periodic remove policy, with ``RemoveReason``;
* ``condor_rm`` → Removed (``RemoveReason`` "via condor_rm (by user …)"), the process gets
  SIGTERM, then SIGKILL after ``--kill-grace`` seconds; ``condor_hold`` → Held (code 1,
  hard kill); ``condor_release`` → Idle; ``condor_vacate_job`` (eviction) → the process is
  killed and the job goes back to Idle, to run again (``NumJobStarts`` counts the starts).
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import signal
import socket
import socketserver
import struct
import threading
import time
from pathlib import Path

from htcondor_double.starter import Starter, session_rss_megabytes
from htcondor_double.submit_description import SubmitError, job_ads, parse

SYSTEM_PERIODIC_REMOVE = "(JobStatus == 2) && (time() - EnteredCurrentStatus > MaxRuntime)"
DEFAULT_STATE = "/var/lib/reana-htcondor"


def default_socket() -> str:
    """Where clients find the schedd (``REANA_HTCONDOR_SOCKET`` or the state folder's)."""
    return os.environ.get("REANA_HTCONDOR_SOCKET") or f"{DEFAULT_STATE}/schedd.sock"


def public(ad: dict) -> dict:
    """The ad as condor_q/condor_history show it (the double's private keys dropped)."""
    return {key: value for key, value in ad.items() if not key.startswith("_")}


class Schedd:
    """Job queue, history and the scheduling loop."""

    def __init__(self, state: Path, cpus: int = 8, kill_grace: float = 2.0,
                 period: float = 0.1):
        self.state = state
        self.cpus = cpus
        self.kill_grace = kill_grace
        self.period = period
        self.lock = threading.RLock()
        self.jobs: dict[tuple[int, int], dict] = {}
        self.starters: dict[tuple[int, int], Starter] = {}
        self.next_cluster = 1
        self.execute = state / "execute"
        self.execute.mkdir(parents=True, exist_ok=True)
        self.history_path = state / "history"
        self.queue_path = state / "job_queue.json"
        self._stop = threading.Event()
        self._load()

    # --- persistence ----------------------------------------------------------------------
    def _load(self) -> None:
        if not self.queue_path.exists():
            return
        saved = json.loads(self.queue_path.read_text())
        self.next_cluster = saved["next_cluster"]
        for ad in saved["jobs"]:
            pgid = ad.pop("_pgid", None)
            if pgid:
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            if ad["JobStatus"] == 2:
                ad.update(JobStatus=1, EnteredCurrentStatus=int(time.time()))
            elif ad["JobStatus"] == 3:
                self._to_history(ad)
                continue
            self.jobs[(ad["ClusterId"], ad["ProcId"])] = ad

    def _save(self) -> None:
        data = {"next_cluster": self.next_cluster, "jobs": list(self.jobs.values())}
        temporary = self.queue_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data))
        os.replace(temporary, self.queue_path)

    def _to_history(self, ad: dict) -> None:
        with open(self.history_path, "a") as handle:
            handle.write(json.dumps(public(ad)) + "\n")

    # --- requests -------------------------------------------------------------------------
    def submit(self, text: str, owner: str, cwd: str, environ: dict) -> dict:
        description = parse(text)
        with self.lock:
            cluster = self.next_cluster
            ads = job_ads(description, cluster=cluster, owner=owner, cwd=cwd, environ=environ,
                          now=int(time.time()))
            self.next_cluster += 1
            for ad in ads:
                if ad.pop("_hold", False):
                    ad.update(JobStatus=5, HoldReason="submitted on hold at user's request",
                              HoldReasonCode=15, HoldReasonSubCode=0)
                self.jobs[(cluster, ad["ProcId"])] = ad
            self._save()
        return {"cluster": cluster, "count": len(ads)}

    def query(self, match) -> list[dict]:
        with self.lock:
            return [public(ad) for ad in self.jobs.values() if match(ad)]

    def history(self, match, limit: int | None = None) -> list[dict]:
        if not self.history_path.exists():
            return []
        found = []
        for line in reversed(self.history_path.read_text().splitlines()):  # newest first
            ad = json.loads(line)
            if match(ad):
                found.append(ad)
                if limit is not None and len(found) >= limit:
                    break
        return found

    def act(self, action: str, match, requester_uid: int, reason: str = "") -> list[list]:
        """Apply ``action`` to the matching jobs; returns ``[cluster, proc, done]`` per job."""
        user = pwd.getpwuid(requester_uid).pw_name if requester_uid >= 0 else "?"
        results = []
        with self.lock:
            for key, ad in list(self.jobs.items()):
                if not match(ad):
                    continue
                allowed = requester_uid == 0 or ad["Owner"] == user
                done = allowed and self._apply(key, ad, action, user, reason)
                results.append([key[0], key[1], done])
            self._save()
        return results

    def _apply(self, key, ad: dict, action: str, user: str, reason: str) -> bool:
        now = int(time.time())
        status = ad["JobStatus"]
        if action == "remove":
            if status in (3, 4):
                return False
            ad.update(JobStatus=3, EnteredCurrentStatus=now,
                      RemoveReason=reason or f"via condor_rm (by user {user})")
            self._end_process(key, ad, graceful=True)
            return True
        if action == "hold":
            if status in (3, 4, 5):
                return False
            ad.update(JobStatus=5, EnteredCurrentStatus=now, HoldReasonCode=1,
                      HoldReasonSubCode=0, HoldReason=reason or f"via condor_hold (by user {user})")
            self._end_process(key, ad, graceful=False)
            return True
        if action == "release":
            if status != 5:
                return False
            ad.update(JobStatus=1, EnteredCurrentStatus=now, LastHoldReason=ad.get("HoldReason"))
            for attribute in ("HoldReason", "HoldReasonCode", "HoldReasonSubCode"):
                ad.pop(attribute, None)
            return True
        if action == "vacate":
            if status != 2:
                return False
            ad.update(JobStatus=1, EnteredCurrentStatus=now, LastVacateTime=now,
                      VacateReason=reason or f"job vacated via condor_vacate_job (by user {user})")
            self._end_process(key, ad, graceful=False)
            return True
        raise ValueError(f"unknown action {action}")

    def _end_process(self, key, ad: dict, graceful: bool) -> None:
        starter = self.starters.get(key)
        if starter is None:
            if ad["JobStatus"] == 3:
                self._finish_removed(key, ad)
            return
        starter.kill(signal.SIGTERM if graceful else signal.SIGKILL)
        if graceful:
            timer = threading.Timer(self.kill_grace, starter.kill)
            timer.daemon = True
            timer.start()

    def _finish_removed(self, key, ad: dict) -> None:
        self.jobs.pop(key, None)
        ad.update(CompletionDate=int(time.time()))
        self._to_history(ad)

    # --- scheduling -----------------------------------------------------------------------
    def _used_cpus(self) -> int:
        return sum(self.jobs[key].get("RequestCpus", 1) for key in self.starters
                   if key in self.jobs)

    def schedule_once(self) -> None:
        now = time.time()
        rss = session_rss_megabytes() if self.starters else {}
        with self.lock:
            for key, ad in sorted(self.jobs.items()):
                if ad["JobStatus"] == 2:
                    self._police(key, ad, now, rss)
            for key, ad in sorted(self.jobs.items(), key=lambda item: (-item[1]["JobPrio"],
                                                                        item[0])):
                if ad["JobStatus"] != 1 or key in self.starters:
                    continue
                if self._used_cpus() + ad.get("RequestCpus", 1) > self.cpus:
                    break
                self._start(key, ad)

    def _police(self, key, ad: dict, now: float, sessions: dict[int, float]) -> None:
        starter = self.starters.get(key)
        if starter is None:
            return
        limit = ad.get("MaxRuntime")
        if isinstance(limit, int) and now - ad["JobCurrentStartDate"] > limit:
            ad.update(JobStatus=3, EnteredCurrentStatus=int(now),
                      RemoveReason=f"The system macro SYSTEM_PERIODIC_REMOVE expression "
                                   f"'{SYSTEM_PERIODIC_REMOVE}' evaluated to TRUE")
            self._end_process(key, ad, graceful=True)
            self._save()
            return
        rss = sessions.get(starter.pid, 0.0)  # the job's session id is its first process's pid
        ad["MemoryUsage"] = max(ad.get("MemoryUsage", 0), int(rss + 0.5))
        if rss > ad.get("RequestMemory", 128):
            ad.update(JobStatus=5, EnteredCurrentStatus=int(now), HoldReasonCode=34,
                      HoldReasonSubCode=0,
                      HoldReason=f"Job has gone over memory limit of {ad['RequestMemory']} "
                                 f"megabytes. Peak usage: {int(rss + 0.5)} megabytes.")
            self._end_process(key, ad, graceful=False)
            self._save()

    def _start(self, key, ad: dict) -> None:
        now = int(time.time())
        slot = len(self.starters) + 1
        starter = Starter(ad, self.execute, slot)
        ad.update(JobStatus=2, EnteredCurrentStatus=now, JobCurrentStartDate=now,
                  NumJobStarts=ad["NumJobStarts"] + 1, NumShadowStarts=ad["NumShadowStarts"] + 1,
                  JobRunCount=ad["JobRunCount"] + 1, RemoteHost=f"slot1_{slot}@double")
        ad.setdefault("JobStartDate", now)
        try:
            starter.start()
        except (OSError, ValueError) as error:
            starter.discard()
            ad.update(JobStatus=5, EnteredCurrentStatus=now, HoldReasonCode=6,
                      HoldReasonSubCode=getattr(error, "errno", 0) or 0,
                      HoldReason=f"Error from slot1_{slot}@double: Failed to execute "
                                 f"'{ad['Cmd']}': {error}")
            self._save()
            return
        ad["_pgid"] = starter.pid
        self.starters[key] = starter
        self._save()
        threading.Thread(target=self._wait, args=(key, ad, starter), daemon=True,
                         name=f"starter-{key[0]}.{key[1]}").start()

    def _wait(self, key, ad: dict, starter: Starter) -> None:
        code, sig = starter.wait()
        with self.lock:
            status = ad["JobStatus"]
        if status == 2:  # a real exit: transfer the outputs (not holding the queue's lock)
            try:
                starter.transfer_out()
            except OSError as error:
                with self.lock:
                    ad.update(JobStatus=5, HoldReasonCode=12, HoldReasonSubCode=0,
                              HoldReason=f"Error from slot: failed to transfer output: {error}")
        else:
            starter.discard()
        now = int(time.time())
        with self.lock:
            self.starters.pop(key, None)
            ad.pop("_pgid", None)
            ad["RemoteWallClockTime"] = float(now - ad["JobCurrentStartDate"])
            if ad["JobStatus"] == 2:
                ad.update(JobStatus=4, EnteredCurrentStatus=now, CompletionDate=now,
                          ExitBySignal=sig is not None)
                if sig is None:
                    ad["ExitCode"] = code
                else:
                    ad["ExitSignal"] = sig
                self.jobs.pop(key, None)
                self._to_history(ad)
            elif ad["JobStatus"] == 3:
                self._finish_removed(key, ad)
            self._save()

    def run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            self.schedule_once()
            self._stop.wait(max(self.period - (time.monotonic() - started), 0.01))

    def stop(self) -> None:
        self._stop.set()


# --- the socket server -----------------------------------------------------------------------
def constraint_matcher(ids: list[str], constraint: str, owner: str | None):
    """A predicate over ads: cluster[.proc] ids, a small constraint language, an owner."""
    from htcondor_double.constraints import compile_constraint

    wanted = []
    for item in ids:
        cluster, _, proc = item.partition(".")
        wanted.append((int(cluster), int(proc) if proc else None))
    test = compile_constraint(constraint) if constraint else None

    def match(ad: dict) -> bool:
        if wanted and not any(ad["ClusterId"] == c and (p is None or ad["ProcId"] == p)
                              for c, p in wanted):
            return False
        if owner and ad.get("Owner") != owner:
            return False
        return test is None or test(ad)

    return match


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        creds = self.request.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                        struct.calcsize("3i"))
        _, uid, _ = struct.unpack("3i", creds)
        try:
            request = json.loads(self.rfile.readline())
            answer = self.server.dispatch(request, uid)
        except (SubmitError, ValueError, KeyError) as error:
            answer = {"error": str(error)}
        self.wfile.write(json.dumps(answer).encode() + b"\n")


class ScheddServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, schedd: Schedd):
        if os.path.exists(path):
            os.unlink(path)
        super().__init__(path, _Handler)
        os.chmod(path, 0o666)  # any local user may submit, as to a real schedd
        self.schedd = schedd

    def dispatch(self, request: dict, uid: int) -> dict:
        op = request["op"]
        user = pwd.getpwuid(uid).pw_name
        owner = None if request.get("ids") or request.get("constraint") or request.get(
            "allusers") else user
        match = constraint_matcher(request.get("ids", []), request.get("constraint", ""), owner)
        if op == "submit":
            return self.schedd.submit(request["text"], user, request["cwd"], request["env"])
        if op == "q":
            return {"ads": self.schedd.query(match)}
        if op == "history":
            return {"ads": self.schedd.history(match, request.get("limit"))}
        if op in ("remove", "hold", "release", "vacate"):
            match = constraint_matcher(request.get("ids", []), request.get("constraint", ""),
                                       None)
            return {"results": self.schedd.act(op, match, uid, request.get("reason", ""))}
        raise ValueError(f"unknown request {op}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="The HTCondor double's schedd")
    parser.add_argument("--state", default=os.environ.get("REANA_HTCONDOR_STATE", DEFAULT_STATE))
    parser.add_argument("--socket", default=None)
    parser.add_argument("--cpus", type=int, default=8)
    parser.add_argument("--kill-grace", type=float, default=2.0)
    args = parser.parse_args(argv)
    state = Path(args.state)
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o755)
    schedd = Schedd(state, cpus=args.cpus, kill_grace=args.kill_grace)
    server = ScheddServer(args.socket or str(state / "schedd.sock"), schedd)
    threading.Thread(target=server.serve_forever, daemon=True, name="schedd-server").start()

    def stop(*_):
        schedd.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    schedd.run()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
