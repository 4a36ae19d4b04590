"""Running the sentence-embedding model: in this process, or in a pool of worker processes
for large batches (ADR 18).

This module imports neither Django nor the rest of the app, so a worker process started
with "spawn" loads only torch, sentence-transformers and the model. embedding.py decides
which path a batch takes and checks the model's weights before either loads them.

Why processes: on two cores, two processes of one thread each embed about a fifth more texts
a second than one process of two threads (the matrices of one batch of short texts are too
small for two threads to share well), at the cost of a second copy of the model (about 600
MB of memory a worker) and 3 to 4 s to start the pool. So the pool is used only for batches
large enough to repay that (embedding.PARALLEL_MIN_TEXTS), and only where the caller allows
it (embedding.worker_processes_allowed: the commands that code a corpus, never a web
request).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

# Texts a forward pass. sentence-transformers sorts the texts by length first, so small
# batches pad little: on 2 cores, 32 codes about 480 texts a second in bfloat16, against
# 460 for 64 and 405 for 128 (docs/benchmarks.md).
BATCH_SIZE = 32
# Texts a task sent to a worker: large enough that a task's overhead is negligible, small
# enough that the workers finish together.
CHUNK = 1000

_worker_model: Any = None
_worker_precision = "fp32"


# Besides its sentence embedding (the mean of the last of its six layers' token vectors), each
# text gets the mean of an earlier layer's, closer to its words than to its meaning: the
# theme classifier learns from both (ADR 18; docs/themes.md gives the figures and how the
# layer was chosen). Both come from the one forward pass.
WORDING_LAYER = 1


def load(directory: str) -> Any:
    from sentence_transformers import SentenceTransformer

    model: Any = SentenceTransformer(directory, device="cpu")
    model[0].auto_model.config.output_hidden_states = True  # every layer's token vectors
    return model


def _unit(vectors: Any) -> Any:
    import torch

    return torch.nn.functional.normalize(vectors.float(), p=2, dim=1)


def encode(model: Any, texts: Sequence[str], precision: str) -> np.ndarray:
    """Two unit-length float32 vectors a text, side by side in one row: its sentence
    embedding (the model's own: mean pooling of the last layer, normalised), then the
    normalised mean of layer WORDING_LAYER's token vectors. In `precision` ("bf16" autocasts
    the model to bfloat16; each vector within 0.9999 cosine of float32's). The texts go
    through the model BATCH_SIZE at a time, longest first (as sentence-transformers' own
    `encode` does), so each batch pads little."""
    import torch

    texts = list(texts)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out = np.empty((len(texts), 2 * model.get_embedding_dimension()), dtype=np.float32)
    with (
        torch.inference_mode(),
        torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"),
    ):
        for start in range(0, len(order), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            features = model.preprocess([texts[i] for i in rows])
            result = model(features)
            # The model's own pooling module (mean over the tokens, padding left out), on
            # the earlier layer's token vectors instead of the last's.
            wording = model[1](
                {
                    "token_embeddings": result["all_layer_embeddings"][WORDING_LAYER],
                    "attention_mask": features["attention_mask"],
                }
            )["sentence_embedding"]
            both = torch.cat([_unit(result["sentence_embedding"]), _unit(wording)], dim=1)
            out[rows] = both.numpy()
    return out


def _start_worker(directory: str, precision: str, threads: int) -> None:
    import torch

    global _worker_model, _worker_precision
    torch.set_num_threads(threads)
    _worker_model = load(directory)
    _worker_precision = precision


def _encode_in_worker(texts: list[str]) -> np.ndarray:
    return encode(_worker_model, texts, _worker_precision)


def encode_in_processes(
    texts: Sequence[str], *, directory: str, precision: str, processes: int, threads: int
) -> np.ndarray:
    """`encode` spread over `processes` new worker processes of `threads` threads each. The
    texts go out in chunks of similar length (sorted, so each chunk pads little) and the
    vectors come back in the texts' order. `texts` must not be empty. A worker that dies or
    cannot load the model raises concurrent.futures.process.BrokenProcessPool (rather than
    leaving the caller waiting, as multiprocessing.Pool would)."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    chunks = [[texts[i] for i in order[s : s + CHUNK]] for s in range(0, len(order), CHUNK)]
    # "spawn": a forked copy of a process that has run torch's thread pool can deadlock.
    with ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(directory, precision, threads),
    ) as pool:
        parts = list(pool.map(_encode_in_worker, chunks))
    vectors = np.concatenate(parts)
    out = np.empty_like(vectors)
    out[order] = vectors
    return out
