"""The attachments of a WES run, and the paths and ``file://`` URLs that name them.

A client names its files by where they are on *its* disk (``wes-client`` turns
a job file's relative ``path`` into ``file:///home/me/wf/data.txt``). The server
never reads such a path from its own disk: a name is resolved only against the
attachments of the request (the longest attachment name, or folder of
attachments, the path ends with), and becomes a workspace-relative path.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from reana_commons import workspace as ws

from reana_server.errors import BadRequest

FILE_CLASSES = ("File", "Directory")
MAX_TEXT_BYTES = 16 * 1024 * 1024
"""Largest attachment read into memory (a workflow document, a reana.yaml)."""


@dataclass
class Attachment:
    """One ``workflow_attachment`` part: its checked workspace-relative name and content."""

    name: str
    stream: BinaryIO

    def text(self) -> str:
        """The content as UTF-8 text (the stream is rewound for the upload after)."""
        self.stream.seek(0)
        data = self.stream.read(MAX_TEXT_BYTES + 1)
        self.stream.seek(0)
        if len(data) > MAX_TEXT_BYTES:
            raise BadRequest(f"Attachment {self.name} is too large to be a workflow document.")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(f"Attachment {self.name} is not UTF-8 text.") from None


def checked_name(name: str | None) -> str:
    """An attachment's file name as a workspace-relative path, or 400."""
    if not name:
        raise BadRequest("Every workflow_attachment needs a file name.")
    try:
        parts = ws.split_user_path(name.replace("\\", "/"))
    except ws.WorkspacePathError as error:
        raise BadRequest(f"Attachment name refused: {error.message}") from None
    if not parts:
        raise BadRequest(f"Attachment name '{name}' does not name a file.")
    return "/".join(parts)


class Attachments:
    """The attachments of one request, by name."""

    def __init__(self, attachments: list[Attachment]):
        self.by_name: dict[str, Attachment] = {}
        for attachment in attachments:
            if attachment.name in self.by_name:
                raise BadRequest(f"Attachment {attachment.name} is given twice.")
            self.by_name[attachment.name] = attachment
        self.folders = {posixpath.dirname(name) for name in self.by_name} - {""}
        for folder in list(self.folders):
            while "/" in folder:
                folder = posixpath.dirname(folder)
                self.folders.add(folder)

    def __iter__(self):
        return iter(self.by_name.values())

    def get(self, name: str) -> Attachment:
        """The attachment called ``name``, or 400."""
        try:
            return self.by_name[name]
        except KeyError:
            raise BadRequest(f"{name} is not among the workflow attachments.") from None

    def resolve(self, reference: str, base: str = "", what: str = "Input") -> str:
        """The workspace-relative path of an attachment (or folder of attachments) that
        ``reference`` names: a relative path (against ``base``), an absolute path or a
        ``file://`` URL ending with an attachment's name. Anything else is refused."""
        parts = urlsplit(reference)
        if parts.scheme and parts.scheme != "file":
            raise BadRequest(
                f"{what} {reference}: only workflow attachments can be used "
                "(supported_filesystem_protocols: file).")
        path = unquote(parts.path) if parts.scheme else reference.split("#", 1)[0]
        known = self.by_name.keys() | self.folders
        if path and not path.startswith("/"):
            relative = posixpath.normpath(posixpath.join(base, path))
            if relative in known:
                return relative
        elif path:
            found = [name for name in known if path.endswith("/" + name)]
            if found:
                return max(found, key=len)
        raise BadRequest(f"{what} {reference} is not among the workflow attachments.")

    def resolve_locations(self, node, base: str = "", what: str = "Input"):
        """``node`` (a CWL input object or document part) with every File or Directory
        ``location``/``path`` resolved against the attachments (as ``location``)."""
        if isinstance(node, list):
            return [self.resolve_locations(item, base, what) for item in node]
        if not isinstance(node, dict):
            return node
        copy = {key: self.resolve_locations(value, base, what) for key, value in node.items()}
        if copy.get("class") in FILE_CLASSES:
            reference = copy.pop("location", None) or copy.pop("path", None)
            copy.pop("path", None)
            if isinstance(reference, str) and reference:
                copy["location"] = self.resolve(reference, base, what)
            elif reference is not None:
                raise BadRequest(f"{what}: a {copy['class']} location must be a string.")
        return copy
