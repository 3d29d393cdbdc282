"""Open a .tflite file with whichever TFLite interpreter is installed.

``ai_edge_litert`` comes first: it is maintained, runs int8 with XNNPACK, and works with numpy 2.
``tflite_runtime`` is the fallback for platforms without an ai-edge-litert wheel (e.g. armv7);
it needs numpy<2 and ran int8 several times slower in our measurements.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from camera.detect.errors import ModelError

log = logging.getLogger(__name__)

RUNTIMES = ("ai_edge_litert", "tflite_runtime")


def interpreter_class() -> tuple[str, type]:
    """``(backend name, Interpreter class)`` of the first runtime that imports."""
    problems = []
    for name in RUNTIMES:
        try:
            module = importlib.import_module(f"{name}.interpreter")
        except ImportError as exc:
            problems.append(f"{name}: {exc}")
            continue
        return name, module.Interpreter
    log.debug("no TFLite runtime: %s", "; ".join(problems))
    raise ModelError(
        "no TFLite runtime: install ai-edge-litert (pip install ai-edge-litert) "
        "or tflite-runtime on platforms without it"
    )


class SignatureRunner(Protocol):
    """The part of a TFLite signature runner Ronda uses (both runtimes ship the same class)."""

    def __call__(self, **inputs: np.ndarray) -> dict[str, np.ndarray]: ...

    def get_input_details(self) -> dict[str, dict[str, Any]]: ...

    def get_output_details(self) -> dict[str, dict[str, Any]]: ...


@dataclass
class LoadedModel:
    """One interpreter ready to run: its signature runner and the input/output contract."""

    backend: str
    runner: SignatureRunner
    input_name: str
    input_dtype: np.dtype
    input_quant: tuple[float, int]
    output_quant: dict[str, tuple[float, int]]
    interpreter: object
    """Kept alive for the runner, which borrows its tensors."""

    def run(self, pixels: np.ndarray) -> dict[str, np.ndarray]:
        """Infer one ``[H, W, 3]`` uint8 BGR image; returns float outputs by name."""
        batch = pixels[None]
        scale, zero = self.input_quant
        if self.input_dtype == np.float32:
            batch = batch.astype(np.float32)
        elif (scale, zero) != (1.0, 0) and scale > 0:
            info = np.iinfo(self.input_dtype)
            batch = np.clip(np.round(batch / scale + zero), info.min, info.max)
            batch = batch.astype(self.input_dtype)
        else:
            batch = batch.astype(self.input_dtype, copy=False)
        outputs = self.runner(**{self.input_name: batch})
        return {name: self._dequantize(name, value) for name, value in outputs.items()}

    def _dequantize(self, name: str, value: np.ndarray) -> np.ndarray:
        if value.dtype == np.float32:
            return value
        scale, zero = self.output_quant[name]
        return (value.astype(np.float32) - zero) * scale


def load_model(path: Path, threads: int) -> LoadedModel:
    """Load ``path`` with ``threads`` CPU threads; raises ModelError if the runtime rejects it."""
    backend, interpreter_cls = interpreter_class()
    try:
        with native_stderr_to_log():
            interpreter = interpreter_cls(model_path=str(path), num_threads=threads)
            # Allocate before asking for the signature runner, or XNNPACK is silently skipped.
            interpreter.allocate_tensors()
        drop_mapped_pages(path)
        runner = interpreter.get_signature_runner()
        inputs = runner.get_input_details()
        outputs = runner.get_output_details()
    except (ValueError, RuntimeError) as exc:
        text = " ".join(str(exc).split())[:200]
        raise ModelError(f"model file unreadable by {backend}: {path}: {text}") from None
    if len(inputs) != 1:
        raise ModelError(f"model file unsupported: {path} has {len(inputs)} inputs, expected 1")
    ((input_name, detail),) = inputs.items()
    return LoadedModel(
        backend=backend,
        runner=runner,
        input_name=input_name,
        input_dtype=np.dtype(detail["dtype"]),
        input_quant=_quant(detail),
        output_quant={name: _quant(d) for name, d in outputs.items()},
        interpreter=interpreter,
    )


@contextlib.contextmanager
def native_stderr_to_log() -> Iterator[None]:
    """Catch what the runtime's C++ code writes straight to file descriptor 2 while a model
    loads ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.", on every start) and log
    it at DEBUG instead, so the terminal shows Ronda's own lines only (``--verbose`` shows it).
    Anything else written meanwhile (another thread's message) goes back to stderr unchanged,
    except when the load fails: then the runtime's "ERROR: not a valid Flatbuffer" is at DEBUG
    too, since the ModelError line already says it.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable stderr (closed, or replaced by a test harness)
        yield
        return
    failed = False
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException:
            failed = True  # the exception carries the runtime's reason into the one error line
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", "replace")
            for line in text.splitlines():
                if failed or line.startswith("INFO: ") or not line.strip():
                    log.debug("tflite: %s", line.removeprefix("INFO: "))
                else:
                    sys.stderr.write(line + "\n")


def _quant(detail: dict[str, Any]) -> tuple[float, int]:
    scale, zero = detail.get("quantization", (0.0, 0))
    return float(scale), int(zero)


MADV_DONTNEED = 4


def drop_mapped_pages(path: Path) -> None:
    """Take the model file's pages out of this process's resident memory once the interpreter
    is built.  TFLite maps the file and reads every weight while XNNPACK packs them into its own
    buffers; the packed copy is what runs, so the mapped copy (15 MB for float32 416) stayed
    resident for nothing.  ``MADV_DONTNEED`` on a read-only file mapping only drops the page
    table entries: a weight read later (an operator XNNPACK does not run) is paged in again from
    the file.  Measured on float32 416: resident -15 MB, of which 3 MB come back at inference.
    Best effort: Linux only, silent where ``/proc`` or ``madvise`` is not there."""
    target = str(path.resolve())
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        madvise = libc.madvise
    except (OSError, AttributeError):
        return
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    for line in maps:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5] == target and "w" not in fields[1]:
            start, end = (int(value, 16) for value in fields[0].split("-"))
            madvise(start, end - start, MADV_DONTNEED)


def release_freed_memory() -> None:
    """Hand memory freed by a released interpreter back to the system now (glibc keeps freed
    heap for reuse otherwise, and the resident size would not show the saving).  Best effort:
    a no-op where there is no glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass
