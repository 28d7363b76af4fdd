"""Objects of the fake API server with resource versions, label selectors and an event log."""

from __future__ import annotations

import copy
import re
import threading
import uuid
from datetime import UTC, datetime


def now() -> str:
    """RFC 3339 time as the API server writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    """An error the server answers as a ``kind: Status`` object."""

    def __init__(self, code: int, reason: str, message: str):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def status(self) -> dict:
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}


_REQUIREMENT = re.compile(r"^\s*(!?)([\w./-]+)\s*(?:(==|=|!=)\s*([\w./-]*)|\s+(in|notin)\s*"
                          r"\(([^)]*)\))?\s*$")


def parse_selector(text: str | None):
    """A label selector (``a=b,c!=d,e,!f,g in (x,y)``) as a predicate over labels."""
    requirements = []
    for part in re.split(r",(?![^(]*\))", text or ""):
        if not part.strip():
            continue
        match = _REQUIREMENT.match(part)
        if not match:
            raise ApiError(400, "BadRequest", f"unable to parse requirement: {part!r}")
        requirements.append(match.groups())

    def matches(labels: dict) -> bool:
        for negate, key, op, value, set_op, values in requirements:
            if op in ("=", "=="):
                ok = labels.get(key) == value
            elif op == "!=":
                ok = labels.get(key) != value
            elif set_op:
                options = {v.strip() for v in values.split(",")}
                ok = (labels.get(key) in options) == (set_op == "in")
            else:
                ok = key in labels
            if negate:
                ok = not ok
            if not ok:
                return False
        return True

    return matches


class Store:
    """Thread-safe objects keyed by ``(resource, namespace, name)`` plus their events."""

    def __init__(self):
        self.cond = threading.Condition()
        self.version = 0
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.events: list[tuple[int, str, str, str, dict]] = []
        self.closed = False

    def _record(self, type_: str, resource: str, namespace: str, obj: dict) -> dict:
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        self.events.append((self.version, resource, namespace, type_, copy.deepcopy(obj)))
        self.cond.notify_all()
        return copy.deepcopy(obj)

    def create(self, resource: str, namespace: str, obj: dict) -> dict:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        name = meta.get("name")
        if not name:
            raise ApiError(422, "Invalid", f"{resource}: metadata.name: Required value")
        with self.cond:
            if (resource, namespace, name) in self.objects:
                raise ApiError(409, "AlreadyExists", f'{resource} "{name}" already exists')
            meta.update(namespace=namespace, uid=str(uuid.uuid4()), creationTimestamp=now())
            self.objects[(resource, namespace, name)] = obj
            return self._record("ADDED", resource, namespace, obj)

    def get(self, resource: str, namespace: str, name: str) -> dict:
        with self.cond:
            obj = self.objects.get((resource, namespace, name))
            if obj is None:
                raise ApiError(404, "NotFound", f'{resource} "{name}" not found')
            return copy.deepcopy(obj)

    def update(self, resource: str, namespace: str, name: str, mutate) -> dict | None:
        """Apply ``mutate(obj)`` in place and record a MODIFIED event; None if gone."""
        with self.cond:
            obj = self.objects.get((resource, namespace, name))
            if obj is None:
                return None
            mutate(obj)
            return self._record("MODIFIED", resource, namespace, obj)

    def replace(self, resource: str, namespace: str, name: str, new: dict) -> dict:
        with self.cond:
            old = self.objects.get((resource, namespace, name))
            if old is None:
                raise ApiError(404, "NotFound", f'{resource} "{name}" not found')
            new = copy.deepcopy(new)
            keep = {k: old["metadata"][k] for k in ("uid", "creationTimestamp", "namespace")}
            new.setdefault("metadata", {}).update(keep)
            self.objects[(resource, namespace, name)] = new
            return self._record("MODIFIED", resource, namespace, new)

    def delete(self, resource: str, namespace: str, name: str) -> dict | None:
        with self.cond:
            obj = self.objects.pop((resource, namespace, name), None)
            if obj is None:
                return None
            return self._record("DELETED", resource, namespace, obj)

    def list(self, resource: str, namespace: str, selector: str | None = None):
        """``(items, resource_version)`` of the objects matching ``selector``."""
        matches = parse_selector(selector)
        with self.cond:
            items = [copy.deepcopy(obj) for (res, ns, _), obj in sorted(self.objects.items())
                     if res == resource and ns == namespace
                     and matches(obj["metadata"].get("labels") or {})]
            return items, str(self.version)

    def events_after(self, version: int, resource: str, namespace: str, selector: str | None,
                     timeout: float):
        """Events newer than ``version`` (waits up to ``timeout``); ``(events, last version)``."""
        matches = parse_selector(selector)
        with self.cond:
            if self.version <= version and not self.closed:
                self.cond.wait(timeout)
            found = [(v, type_, obj) for v, res, ns, type_, obj in self.events
                     if v > version and res == resource and ns == namespace
                     and matches(obj["metadata"].get("labels") or {})]
            return found, self.version

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()
