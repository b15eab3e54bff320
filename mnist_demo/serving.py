"""Answering a request: image -> digit, probabilities and the 28x28 picture, in a worker process.

Gradio serves every request from one Python process, and its own work (~10 ms
a request: upload, queue, event stream, output file) holds the GIL. Reading
an image and running the model in that process adds ~3 ms of numpy, Pillow and
TensorFlow calls that hold the same lock, so under 8 concurrent clients the
server reached 67-77% of a no-op Gradio app's throughput. A separate process
has its own GIL: the server only passes a file path down a pipe and reads the
answer back; 76-89% (benchmarks/http_load.py measures both, README, Speed).

    PredictionWorker(model_path, slots).answer(source) -> Answer    # from the web server
    InProcess(model_path).answer(source) -> Answer                  # the same calls, in this process

The worker itself: python -m mnist_demo.serving MODEL_PATH FD [FD ...]
(started by PredictionWorker; one pipe per request it may be asked at once).
No Gradio here: the worker must start fast.
"""

from __future__ import annotations

import hashlib
import io
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

from . import recognizer as rec
from .preprocess import ImageError

PROCESSED_DIR = Path(tempfile.gettempdir()) / "mnist_demo_processed"
# A little below the web server, whose one thread carries every request. 0 and 19 measured no
# better under load, and at 19 answers wait whenever anything else keeps the CPUs busy (a training,
# other programs): 326 ms instead of 79 ms (README, Speed).
WORKER_NICE = int(os.environ.get("MNIST_DEMO_WORKER_NICE", 5))
_written = 0
READY = "ready"  # the worker's first message on each pipe, once the model is loaded


class Answer(NamedTuple):
    label: int
    probabilities: tuple[float, ...]  # ten, sum to 1
    image: str  # the 28x28 the model saw, a PNG file (see processed_file)

    def as_dict(self) -> dict[str, float]:
        """{"0": p0, ..., "9": p9}, the shape gr.Label takes."""
        return {str(d): p for d, p in enumerate(self.probabilities)}


def processed_file(image) -> str:
    """The 28x28 image as a PNG file named by its content, written atomically.

    Handing Gradio a PIL image makes it write the encoded bytes in place to a
    content-hashed cache path: two requests with the same answer at the same
    moment then rewrite a file that a client is downloading, and the client
    sees its connection dropped. A file path instead goes through Gradio's
    copy-and-rename route, and this file is itself written to a temporary name
    and renamed, so every reader sees a whole file.
    """
    global _written
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    path = PROCESSED_DIR / f"{hashlib.sha256(data).hexdigest()[:24]}.png"
    if path.is_file():
        os.utime(path)  # in use: keep it out of the hourly clean-up below
    else:
        PROCESSED_DIR.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=PROCESSED_DIR, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        _written += 1
        if _written % 1000 == 0:  # keep the folder bounded: drop files unused for an hour
            cutoff = time.time() - 3600
            for old in PROCESSED_DIR.glob("*.png"):
                if old.stat().st_mtime < cutoff:
                    old.unlink(missing_ok=True)
    return str(path)


class InProcess:
    """Answers in this process, with the same calls as PredictionWorker (the worker serves through one)."""

    def __init__(self, model_path: str | os.PathLike):
        self.recognizer = rec.served(str(model_path))

    def answer(self, source) -> Answer:
        """Any image the preprocessing takes -> Answer. Raises BlankImageError / ImageError on bad input."""
        prediction = self.recognizer.predict(source)
        return Answer(prediction.label, tuple(map(float, prediction.probabilities)),
                      processed_file(prediction.processed.image))

    def load(self, model_path: str | os.PathLike):
        self.recognizer = rec.load(model_path)  # one reference swap: every later request uses it

    def export_web(self, folder: str | os.PathLike):
        from .web.export import export

        export(folder, recognizer=self.recognizer)

    def close(self):
        pass


class WorkerError(RuntimeError):
    """The worker process could not answer (it stopped, or failed to start)."""


class PredictionWorker:
    """The web server's side of the worker: one pipe per concurrent request, no thread of its own.

    A request takes a free pipe, sends the image's path (or array), and blocks
    in recv (without the GIL) until the answer comes. If the worker died, it is
    started again and the request retried once.
    """

    def __init__(self, model_path: str | os.PathLike, slots: int):
        self.model_path = str(Path(model_path).resolve())
        self.slots = slots
        self._lock = threading.Lock()
        self._free: queue.SimpleQueue = queue.SimpleQueue()
        self.generation = 0
        self._start()

    def _start(self):
        from multiprocessing import Pipe

        pairs = [Pipe() for _ in range(self.slots)]
        fds = [child.fileno() for _, child in pairs]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]))
        self.process = subprocess.Popen([sys.executable, "-m", "mnist_demo.serving", self.model_path, *map(str, fds)],
                                        pass_fds=fds, env=env)
        for conn, child in pairs:
            child.close()
            self._free.put((self.generation, conn, False))  # not yet known to be ready

    def _call(self, message):
        """Send a message, return the worker's reply; an exception it replies with is raised here."""
        failures = 0
        while True:
            generation, conn, ready = self._free.get()
            if generation != self.generation:  # a pipe to a worker that was replaced
                conn.close()
                continue
            try:
                if not ready:
                    if conn.recv() != READY:
                        raise EOFError
                    ready = True
                conn.send(message)  # pickled whole before anything is written
                reply = conn.recv()
            except (EOFError, OSError):
                conn.close()
                self._restart(generation)
                failures += 1
                if failures == 2:
                    raise WorkerError("the prediction worker stopped twice; it has been started again") from None
                continue
            except BaseException:  # e.g. a source that cannot be pickled: the pipe is still clean
                self._free.put((generation, conn, ready))
                raise
            self._free.put((generation, conn, True))
            if isinstance(reply, Exception):
                raise reply
            return reply

    def _restart(self, generation: int):
        with self._lock:
            if generation == self.generation:  # the first thread to notice restarts it, once
                self.process.kill()
                self.process.wait()
                self.generation += 1
                self._start()

    def answer(self, source) -> Answer:
        """Path, bytes or array -> Answer; BlankImageError / ImageError with the worker's message."""
        return self._call(("answer", source))

    def load(self, model_path: str | os.PathLike):
        """Serve another model from now on (the worker reads one message at a time: no request sees half a swap)."""
        self.model_path = str(Path(model_path).resolve())
        self._call(("load", self.model_path))

    def export_web(self, folder: str | os.PathLike):
        """Write the TensorFlow.js site for the served model (mnist_demo/web/export.py) into folder."""
        self._call(("export_web", str(folder)))

    def close(self):
        self.process.kill()
        self.process.wait()


def _serve(model_path: str, fds: list[int]):
    """The worker's loop: answer whichever pipe has a message, one at a time; exit when all are closed.
    A message names an InProcess method and its argument; the reply is what it returns or the
    exception to raise."""
    from multiprocessing.connection import Connection, wait

    os.nice(WORKER_NICE)
    conns = [Connection(fd) for fd in fds]
    here = InProcess(model_path)
    calls = {"answer": here.answer, "load": here.load, "export_web": here.export_web}
    for conn in conns:
        conn.send(READY)
    while conns:
        for conn in wait(conns):
            try:
                name, value = conn.recv()
            except (EOFError, OSError):  # the server went away
                conns.remove(conn)
                continue
            try:
                reply = calls[name](value)
            except ImageError as exc:  # BlankImageError too: the server says what is wrong
                reply = exc
            except Exception as exc:  # noqa: BLE001 - a bug answers one request with an error, the worker goes on
                reply = WorkerError(f"{type(exc).__name__}: {exc}")
            try:
                conn.send(reply)
            except OSError:
                conns.remove(conn)


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is for the server; the worker ends when its pipes close
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")  # one digit at a time: the pool costs more than it gains
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from mnist_demo.serving import _serve  # the module by its name, not __main__: replies pickle as its classes

    _serve(sys.argv[1], [int(fd) for fd in sys.argv[2:]])
