"""Parsing a big file on the second core: a child process runs the parser, the caller saves what it sends.

An import is two halves: reading and checking each row, which needs only the file, and saving
each sale, which needs the ledger. For a big file the first half runs in a child process
(``python -m pos_loyalty.io.parallel``) that sends its events, a few thousand at a time, as
pickles through a pipe; the caller's process does the second half as the events arrive. A thread
would not do: sqlite3 takes the GIL back for each row it inserts, so a parsing thread and a
writing thread take turns instead of running together. The child is a plain interpreter rather
than a ``multiprocessing`` one, which would run the caller's main script again in the child.

Events are plain tuples (a pickled datetime or named tuple costs several times a tuple of text).
A parser produces the same events in either process, so small files, parsed in-process to spare
the child's start-up, import exactly as big ones do.
"""

from __future__ import annotations

import gc
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .readers import InputError, Progress

CHILD_MIN_BYTES = 8 * 1024 * 1024
"""Files smaller than this are parsed in the caller's process (starting a child costs ~0.2 s)."""
CHUNK = 500
"""Events sent together: fewer, larger messages through the pipe."""
AHEAD_CHUNKS = 8
"""Chunks the child may have ready before the caller takes them; this bounds the memory they hold."""

Parser = Callable[..., Iterator[tuple]]
"""A module-level generator of events, called as ``parser(*args, progress=...)``; it must not touch the ledger."""

_EVENTS, _DONE, _REFUSED, _CRASHED = range(4)
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def parsed(path: Path, parser: Parser, *args, progress: Progress | None = None) -> Iterator[Iterator[tuple]]:
    """The events of ``parser(*args)``: from a child process when ``path`` is big, in-process otherwise.

    A file-level problem the parser raises (:class:`InputError`) reaches the caller in order,
    after the events before it. Leaving the ``with`` block early stops the child.
    """
    with _rare_collections(), _events(path, parser, args, progress) as events:
        yield events


@contextmanager
def _rare_collections(young: int = 50_000):
    """Run the cyclic garbage collector rarely while events flow, then as before.

    Events are many small tuples that live until their sale is saved; with the default
    threshold (700) making them set off ~1,500 collections: ~0.5 s of a 9 s import in the
    caller, and parsing the Online Retail file took 4.3-4.7 s instead of 3.4 s in the child.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(young, before[0]), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def _events(path: Path, parser: Parser, args: tuple, progress: Progress | None) -> Iterator[Iterator[tuple]]:
    try:
        big = path.is_file() and path.stat().st_size >= CHILD_MIN_BYTES
    except OSError:
        big = False
    if not big or not sys.executable:
        yield parser(*args, progress=progress)
        return
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(_PACKAGE_ROOT), os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, env=env
        )
        try:
            with child.stdin:
                child.stdin.write(pickle.dumps((parser, args, progress is not None), pickle.HIGHEST_PROTOCOL))
            yield _received(child, errors, progress)
        finally:
            if child.poll() is None:
                child.kill()  # the caller stopped early (e.g. at a bad row), or it is on its way out
            child.wait()
            child.stdout.close()


def _received(child: subprocess.Popen, errors, progress: Progress | None) -> Iterator[tuple]:
    """The events the child sends, until it says it is done; its failures raised here."""
    while True:
        try:
            kind, payload, done = pickle.load(child.stdout)
        except EOFError:
            child.wait()
            errors.seek(0)
            said = errors.read().decode(errors="replace").strip()
            raise RuntimeError(f"the parsing process stopped unexpectedly (exit code {child.returncode}) {said}") from None
        if done is not None and progress is not None:
            progress(*done)
        if kind == _EVENTS:
            yield from payload
        elif kind == _DONE:
            return
        elif kind == _REFUSED:
            raise payload
        else:
            raise RuntimeError(f"parsing the file failed in the child process:\n{payload}")


def _child() -> None:
    """The child's side: run the parser named on stdin and send its events, then how it ended.

    Pickling happens here and writing in a thread, so parsing goes on while the caller is busy
    with the chunks before, at most ``AHEAD_CHUNKS`` of them.
    """
    parser, args, report = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer
    ready: queue.Queue[bytes | None] = queue.Queue(AHEAD_CHUNKS)

    def write() -> None:
        while (blob := ready.get()) is not None:
            out.write(blob)
            out.flush()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    done = None

    def send(kind: int, payload, progress=None) -> None:
        ready.put(pickle.dumps((kind, payload, progress), pickle.HIGHEST_PROTOCOL))

    def note(read: int, size: int) -> None:
        nonlocal done
        done = (read, size)

    chunk: list[tuple] = []
    try:
        with _rare_collections():
            for event in parser(*args, progress=note if report else None):
                chunk.append(event)
                if len(chunk) >= CHUNK:
                    send(_EVENTS, chunk, done)
                    chunk = []
        send(_EVENTS, chunk, done)
        send(_DONE, None, done)
    except InputError as exc:
        send(_EVENTS, chunk)
        send(_REFUSED, exc)
    except Exception:
        send(_CRASHED, traceback.format_exc())
    ready.put(None)
    writer.join()


if __name__ == "__main__":
    _child()
