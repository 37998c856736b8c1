"""The dynamic batcher: raw texts in, labels out, with tokenization inside the loop.

One worker thread takes the oldest request and waits for more until the batch is full or the
oldest has waited ``max_delay_ms`` (Triton's policy), tokenizes the batch padded to its longest
request and truncated at ``max_length``, runs the predictor and completes every request with its
label and where its time went: queueing, tokenization, model.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from lib.errors import UserError


class VariantCrashed(RuntimeError):
    """The variant failed while serving: the load test of this variant cannot go on."""


@dataclass(frozen=True)
class Completion:
    tag: Any
    label: int  # -1 when the batch failed
    queue_s: float  # from submission until the batch started
    tokenize_s: float
    model_s: float
    batch_size: int
    length: int  # the batch's padded length in tokens

    @property
    def ok(self) -> bool:
        return self.label >= 0

    @property
    def latency_s(self) -> float:
        return self.queue_s + self.tokenize_s + self.model_s


@dataclass(frozen=True)
class BatchRecord:
    """One batch as served: what the service-time curve is fitted to."""

    size: int
    length: int
    tokenize_s: float
    model_s: float
    complete_s: float = 0.0  # handing the results back: the server is busy with it all the same

    @property
    def service_s(self) -> float:
        return self.tokenize_s + self.model_s + self.complete_s


@dataclass
class _Request:
    text: str
    tag: Any
    arrival: float
    future: Future


_STOP = object()


class DynamicBatcher:
    """Serve texts through ``predictor`` in dynamic batches.

    ``predictor`` maps a tokenized batch (a dict of torch tensors) to logits, so any runtime can be
    served. ``on_batch`` is called on the worker thread with each finished batch's completions,
    failed ones included (label -1), so that a caller waiting on every request (LoadGen) hears of
    all of them even after a crash.
    """

    def __init__(
        self,
        predictor: Callable[[dict], Any],
        tokenizer,
        *,
        max_batch: int,
        max_delay_ms: float,
        max_length: int,
        on_batch: Callable[[list[Completion]], None] | None = None,
    ) -> None:
        if max_batch < 1:
            raise UserError(f"max_batch must be at least 1, not {max_batch}.")
        self.predictor = predictor
        self.tokenizer = tokenizer
        self.max_batch = max_batch
        self.max_delay_s = max_delay_ms / 1000
        self.max_length = max_length
        self.on_batch = on_batch
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue()
        self._records: list[BatchRecord] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> DynamicBatcher:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._loop, name="leanbench-batcher", daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    def serve_here_until_stopped(self) -> None:
        """Serve on the calling thread until ``stop()``; the worker thread, if any, pauses.

        Why: once a process has run torch on a thread (its main thread builds and measures the
        variant), eager PyTorch called from another thread runs about 2x slower here (a 6 ms
        forward took 12 ms from a second thread, OpenMP's per-thread pools); serving on the
        thread that measured keeps the model as fast as it was measured. ONNX Runtime, with
        its own pool, is indifferent.
        """
        resume = self._thread is not None
        self.close()
        try:
            self._loop()
        finally:
            if resume:
                self.start()

    def stop(self) -> None:
        """Ends ``serve_here_until_stopped`` once the requests queued before it are served."""
        self._queue.put(_STOP)

    def __enter__(self) -> DynamicBatcher:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ use
    def submit(self, text: str, tag: Any = None) -> Future:
        """Queue one request; the future resolves to its ``Completion``."""
        future: Future = Future()
        self._queue.put(_Request(text, tag, time.perf_counter(), future))
        return future

    def serve(self, texts: Sequence[str]) -> list[int]:
        """Labels for ``texts``, served through the batcher (all submitted at once)."""
        futures = [self.submit(t, i) for i, t in enumerate(texts)]
        return [f.result().label for f in futures]

    def take_records(self) -> list[BatchRecord]:
        """The batches served since the last call."""
        with self._lock:
            records, self._records = self._records, []
        return records

    # ------------------------------------------------------------------ worker
    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            deadline = first.arrival + self.max_delay_s
            while len(batch) < self.max_batch:
                remaining = deadline - time.perf_counter()
                try:
                    # A backlog fills the batch at once: the oldest has already waited.
                    item = (
                        self._queue.get(timeout=remaining)
                        if remaining > 0
                        else self._queue.get_nowait()
                    )
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            self._serve(batch)

    def _serve(self, batch: list[_Request]) -> None:
        start = time.perf_counter()
        labels: list[int] | None = None
        tokenize_s = model_s = 0.0
        length = 0
        if self.error is None:
            try:
                encoded = self.tokenizer(
                    [r.text for r in batch],
                    padding="longest",
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                tokenized = time.perf_counter()
                length = int(encoded["input_ids"].shape[1])
                logits = self.predictor(dict(encoded))
                labels = [int(x) for x in logits.argmax(-1).tolist()]
                done = time.perf_counter()
                tokenize_s, model_s = tokenized - start, done - tokenized
            except Exception as exc:  # the variant's failure, handed to every caller below
                self.error = exc
                labels = None
        completions = [
            Completion(
                r.tag,
                labels[i] if labels is not None else -1,
                start - r.arrival,
                tokenize_s,
                model_s,
                len(batch),
                length,
            )
            for i, r in enumerate(batch)
        ]
        for request, completion in zip(batch, completions, strict=True):
            if labels is None:
                failure = VariantCrashed(f"the variant failed while serving: {self.error!r}")
                failure.__cause__ = self.error
                request.future.set_exception(failure)
            else:
                request.future.set_result(completion)
        if self.on_batch is not None:
            try:
                self.on_batch(completions)
            except Exception as exc:  # a broken sink must not kill the worker silently
                self.error = self.error or exc
        if labels is not None:
            complete_s = time.perf_counter() - start - tokenize_s - model_s
            record = BatchRecord(len(batch), length, tokenize_s, model_s, complete_s)
            with self._lock:
                self._records.append(record)
