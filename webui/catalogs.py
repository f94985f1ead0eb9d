"""The catalogs a web tab can talk to: the one the app started with, and the ones people
upload (a catalog file and, optionally, a zip of its media), each checked by content,
unpacked into a folder of its own and ingested into an index of its own.

A tab's session names its catalog (``session["catalog"]``); every tab of one catalog shares
its :class:`~assistant.Recommender` (index, models, LLM), never its conversation.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant import InputError, Recommender, format_ingest_report

from . import uploads

DEFAULT_CATALOG = "default"


def conversation_on(catalog: str, session: dict[str, Any] | None = None) -> dict[str, Any]:
    """The tab's session (its other keys kept) starting a new conversation over ``catalog``."""
    session = dict(session or {})
    session.update({"catalog": catalog, "chat": None, "shown": [], "cards": [], "chips": []})
    return session


class Catalogs:
    """The recommenders by catalog name: ``base`` for :data:`DEFAULT_CATALOG`, one more per
    uploaded catalog, sharing ``base``'s models and LLM.

    ``ingest_fn`` replaces :func:`retrieval.ingest.ingest` for uploads (tests); it is called
    as ``ingest_fn(settings, catalog, hub=, prune=, progress=, media_root=)``."""

    def __init__(self, base: Recommender, settings: Any, ingest_fn: Callable[..., Any] | None = None):
        self.base = base
        self.settings = settings
        self.ingest_fn = ingest_fn
        self._recommenders: dict[str, Recommender] = {DEFAULT_CATALOG: base}
        self._lock = threading.Lock()

    def recommender(self, session: dict[str, Any]) -> Recommender:
        """The recommender of the tab's catalog."""
        return self._recommenders.get(session.get("catalog") or DEFAULT_CATALOG, self.base)

    def use_default(self, session: dict[str, Any] | None) -> dict[str, Any]:
        """The tab back on the catalog the app started with, in a new conversation."""
        return conversation_on(DEFAULT_CATALOG, session)

    def ingest_upload(
        self, session: dict[str, Any] | None, catalog_file: str | None, media_zip: str | None
    ) -> tuple[dict[str, Any], str]:
        """Ingest an uploaded catalog (and its media zip) into an index of its own and
        point this tab at it. Returns the new session and the report as Markdown."""
        if not catalog_file:
            raise InputError("Please choose a catalog file (JSONL or CSV) first.")
        name, catalog = self._unpack(catalog_file, media_zip)
        # an uploaded catalog may only use the files it came with: a row naming
        # /etc/passwd or ../../other-upload/photo.jpg is never opened
        rec, report = type(self.base).open(
            self.settings.replace(index_name=name), catalog, hub=self.base.hub,
            llm=self.base.load_llm(), prune=True, progress=True, media_root=catalog.parent,
            ingest=self.ingest_fn,
        )
        with self._lock:
            # the same upload from another tab keeps the recommender that tab talks to
            self._recommenders.setdefault(name, rec)
        return conversation_on(name, session), format_ingest_report(
            report, markdown=True, folder=catalog.parent
        )

    def _unpack(self, catalog_file: str, media_zip: str | None) -> tuple[str, Path]:
        """Check the upload and copy it into its folder under the data folder (named by the
        content hash, so the same upload lands in the same index). Returns the index name
        and the catalog's path there."""
        limit = self.settings.max_upload_bytes
        # a catalog may be much larger than a chat photo; its media zip larger still
        uploads.check_size(catalog_file, limit * 10, "catalog file")
        suffix = uploads.sniff_catalog_format(catalog_file)
        digest = hashlib.sha256(Path(catalog_file).read_bytes())
        if media_zip:
            uploads.check_size(media_zip, limit * 50, "media zip")
            with open(media_zip, "rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
        name = "upload-" + digest.hexdigest()[:16]
        folder = Path(self.settings.data_dir) / "uploads" / name
        # our own file name: the uploaded one is never used as a path
        catalog = folder / ("catalog" + suffix)
        if folder.is_dir():
            return name, catalog
        # the same upload (same content hash) reuses its folder, which other tabs may be
        # showing pictures from; a new one is unpacked aside and moved in whole
        tmp = folder.with_name(name + f".tmp-{uuid.uuid4().hex[:8]}")
        try:
            if media_zip:
                uploads.safe_extract_zip(media_zip, tmp, limit * 100)
            tmp.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(catalog_file, tmp / catalog.name)
            try:
                tmp.rename(folder)
            except OSError:
                if not folder.is_dir():  # not a twin upload that won the race
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return name, catalog
