"""GET /api/v1/inference/batching: one replica serving a seeded stream of requests, with
continuous batching over a paged KV pool and, on the same stream, static batching.

- The stream: `requests` arrivals of a Poisson process at `rate` per second (0: all at once),
  prompt and output lengths drawn from `distribution` around their means (seeded), each
  clipped so that prompt + output fits `max_model_len`.
- The pool: the engine rule's blocks on one GPU (`app.core.inference.kv`), or `num_blocks`.
- Continuous batching (`app.core.inference.batching_sim`): vLLM V1's scheduler, step by step,
  each step costed on the roofline with exactly its mix of prefill and decode tokens.
- Static batching, as servers batched before paged attention (Orca, Yu et al. OSDI 2022,
  describes the problem): when idle, take the waiting requests that fit, reserving for each
  max_model_len tokens of contiguous blocks (PagedAttention §3: what servers before it
  reserved; at most the pool), under the same max_num_seqs and max_batched_tokens; prefill
  them in one pass; decode until the longest is done, every sequence computed each step
  (finished ones pad); then the next batch.
- Disaggregation (DistServe, Zhong et al. OSDI 2024; Splitwise, Patel et al. ISCA 2024):
  prefill and decode on separate replicas; per decode replica, how many prefill replicas keep
  up with the stream's mix.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from app.core.errors import InvalidInput
from app.core.inference.batching_sim import ALLOC, FREE, Engine, Outcome, Stream, Trace
from app.core.inference.cost import (
    CostModel,
    CostQuery,
    build_cost,
    decode_features,
    prefill_features,
    prefill_mix,
)
from app.core.inference.kv import KVCapacity, KVQuery, compute_kv, kv_payload
from app.core.inference.ops import INDEX
from app.core.limits import limit
from app.core.params import effective, param

Distribution = Literal["fixed", "uniform", "exponential"]
MIN_RATE = 1e-6  # arrivals per second: slower streams are a request a fortnight
SRC_PAGED = "PagedAttention (Kwon et al., SOSP 2023, arXiv 2309.06180): KV cache in fixed blocks"
SRC_ORCA = "Orca (Yu et al., OSDI 2022): iteration-level scheduling instead of request batches"
SRC_DISAGG = "DistServe (Zhong et al., OSDI 2024, arXiv 2401.09670); Splitwise (arXiv 2311.18677)"


@dataclass(frozen=True)
class BatchingQuery(KVQuery, CostQuery):
    """Inputs of GET /api/v1/inference/batching."""

    requests: int = param(
        200, "Requests in the stream.", example=1000, ge=1, le=limit("batching_requests")
    )
    rate: float = param(
        40.0, "Arrivals per second (Poisson); 0: all arrive at once.", example=20.0, ge=0,
        le=1e6,
    )  # fmt: skip
    prompt_len: int = param(
        1024, "Mean prompt tokens.", example=512, ge=1, le=limit("batching_length")
    )
    output_len: int = param(
        256, "Mean output tokens.", example=128, ge=1, le=limit("batching_length")
    )
    distribution: Distribution = param(
        "uniform",
        "Lengths: fixed (every request the mean), uniform (1 … 2·mean − 1) or exponential "
        "(1 + ⌊X⌋, X exponential with mean − 1/2).",
        example="exponential",
    )
    seed: int = param(0, "Seed of the stream.", example=7, ge=0, le=2**32 - 1)
    num_blocks: int | None = param(
        None,
        "Blocks in the pool (default: the engine rule's on one GPU).",
        example=2048,
        ge=1,
        le=limit("batching_pool_blocks"),
    )
    trace: bool = param(
        True,
        "Send the step-by-step trace (segments of steps, every block allocated and freed) for "
        "streams up to the batching_trace_requests limit.",
        example=True,
    )


def _lengths(rng: np.random.Generator, mean: int, n: int, kind: Distribution) -> np.ndarray:
    if kind == "fixed":
        return np.full(n, mean, dtype=np.int64)
    if kind == "uniform":
        return rng.integers(1, 2 * mean, size=n, endpoint=False)
    return 1 + np.floor(rng.exponential(max(mean - 0.5, 1e-9), size=n)).astype(np.int64)


def make_stream(q: BatchingQuery) -> Stream:
    """The seeded requests: arrivals, then prompts, then outputs from one generator."""
    if 0 < q.rate < MIN_RATE:
        raise InvalidInput("rate", f"give 0 (all at once) or at least {MIN_RATE:g} per second")
    rng = np.random.default_rng(q.seed)
    n = q.requests
    arrival = np.cumsum(rng.exponential(1.0 / q.rate, size=n)) if q.rate > 0 else np.zeros(n)
    prompt = np.minimum(_lengths(rng, q.prompt_len, n, q.distribution), q.max_model_len - 1)
    output = _lengths(rng, q.output_len, n, q.distribution)
    output = np.clip(output, 1, q.max_model_len - prompt)
    return Stream(arrival, prompt.tolist(), output.tolist())


# ---------------------------------------------------------------- static batching


@dataclass
class _Static:
    """Static batching's running state over the stream."""

    stream: Stream
    reserve: int  # blocks reserved per request: max_model_len tokens (at most the pool)
    bs: int
    trace: Trace
    t: float = 0.0
    step: int = 0
    busy: float = 0.0
    token_steps: float = 0.0
    peak: int = 0
    arrival: list[float] = dataclasses.field(default_factory=list)

    def held(self, r: int) -> int:
        return self.reserve


def _next_batch(st: _Static, i: int, q: BatchingQuery, blocks: int) -> list[int]:
    """The batch an idle engine takes at time st.t: request i (waited for if need be) and
    every later one that has arrived, while the batch has room (max_num_seqs), its prompts
    the step's token budget (max_batched_tokens) and the pool the blocks."""
    arrival, prompt = st.arrival, st.stream.prompt
    st.t = max(st.t, arrival[i])
    batch, used, tokens = [i], st.held(i), prompt[i]
    j = i + 1
    n = len(arrival)
    while j < n and arrival[j] <= st.t and len(batch) < q.max_num_seqs:
        if used + st.held(j) > blocks or tokens + prompt[j] > q.max_batched_tokens:
            break
        batch.append(j)
        used += st.held(j)
        tokens += prompt[j]
        j += 1
    return batch


def _padded_rows(cost: CostModel, prompts: np.ndarray, steps: int) -> np.ndarray:
    """Decode steps 1 … steps of a padded batch: every sequence computes a token each step."""
    w = cost.serving.window
    b = float(len(prompts))
    x = decode_features(np.full(steps, b), 0, w)
    j = np.arange(1, steps + 1, dtype=np.float64)
    keys = prompts.sum() + b * j  # Σ (prompt + j)
    x[:, INDEX["pairs_full_decode"]] = x[:, INDEX["reads_full_decode"]] = keys
    if w:
        slide = np.minimum(prompts[None, :] + j[:, None], w).sum(axis=1)
        x[:, INDEX["pairs_sliding_decode"]] = x[:, INDEX["reads_sliding_decode"]] = slide
    return x


def _run_batch(st: _Static, cost: CostModel, batch: list[int], out: Outcome) -> None:
    """One static batch: its prefill pass, its padded decode steps, its trace."""
    stream = st.stream
    prompts = np.array([stream.prompt[r] for r in batch], dtype=np.float64)
    longest = max(stream.output[r] for r in batch)
    rows = [prefill_mix(prompts, cost.serving.window)[None, :]]
    if longest > 1:
        rows.append(_padded_rows(cost, prompts, longest - 1))
    times = cost.latency(np.concatenate(rows))
    cum = st.t + np.cumsum(times)
    end_step = st.step + len(times) - 1
    block = 0
    for r in batch:
        out.admitted[r], out.first_token[r] = st.t, cum[0]
        out.finish[r] = cum[stream.output[r] - 1]
        if st.trace.record:
            st.trace.events.append((st.step, block, st.held(r), r, ALLOC))
            st.trace.events.append((end_step, block, st.held(r), r, FREE))
        block += st.held(r)
    st.peak = max(st.peak, block)
    if st.trace.record:
        _static_segments(st, batch, cum, block, int(prompts.sum()))
    st.busy += float(times.sum())
    st.token_steps += len(batch) * len(times)
    st.t = float(cum[-1])
    st.step = end_step + 1


def run_static(q: BatchingQuery, cost: CostModel, stream: Stream, blocks: int, bs: int,
               record: bool) -> Outcome:  # fmt: skip
    """Static batching on the same stream (see the module docstring)."""
    n = len(stream.prompt)
    reserve = min(blocks, -(-q.max_model_len // bs))
    st = _Static(stream, reserve, bs, Trace(record), arrival=stream.arrival.tolist())
    out = Outcome(np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan), [0] * n, 0,
                  0.0, 0.0, 0, st.trace)  # fmt: skip
    i = 0
    while i < n:
        batch = _next_batch(st, i, q, blocks)
        _run_batch(st, cost, batch, out)
        i = batch[-1] + 1
    return dataclasses.replace(
        out, steps=st.step, busy_time=st.busy, token_steps=st.token_steps, peak_blocks=st.peak
    )


def _static_segments(st: _Static, batch: list[int], cum: np.ndarray, blocks: int,
                     prefill_tokens: int) -> None:  # fmt: skip
    """Trace rows of one static batch: the prefill, then a row per run of steps with the
    same number of sequences still generating (finished ones keep their slot)."""
    b = len(batch)
    outs = sorted(st.stream.output[r] for r in batch)

    def waiting(end: float) -> int:  # arrived, not yet in a batch
        return max(0, int(np.searchsorted(st.stream.arrival, end, side="right")) - batch[-1] - 1)

    st.trace.segment(step=st.step, steps=1, start=st.t, end=float(cum[0]), running=b,
                     waiting=waiting(float(cum[0])), prefills=b, prefill_tokens=prefill_tokens,
                     decode_tokens=0, blocks=blocks)  # fmt: skip
    k, done = 1, 0
    for o in sorted(set(outs)):
        if o > k:
            end = float(cum[o - 1])
            st.trace.segment(step=st.step + k, steps=o - k, start=float(cum[k - 1]), end=end,
                             running=b, waiting=waiting(end), prefills=0, prefill_tokens=0,
                             decode_tokens=b - done, blocks=blocks)  # fmt: skip
            k = o
        done += outs.count(o)


# ---------------------------------------------------------------- disaggregation


@dataclass(frozen=True)
class Disaggregation:
    prefill_batch: int
    prefill_requests_per_second: float
    decode_batch: int
    decode_context: int
    decode_requests_per_second: float
    prefill_replicas_per_decode_replica: float
    ttft: float
    tpot: float
    formula: str
    source: str


def disaggregation(q: BatchingQuery, cost: CostModel, kv: KVCapacity) -> Disaggregation:
    """Prefill replicas per decode replica for the stream's mean prompt and output.

    A prefill replica packs ⌊max_batched_tokens / prompt⌋ prompts per pass; a decode replica
    runs the largest batch the cache holds at prompt + output tokens (at most max_num_seqs),
    at the mean context prompt + output/2. Ratio = decode requests/s ÷ prefill requests/s.
    """
    w = cost.serving.window
    n_pre = max(1, q.max_batched_tokens // q.prompt_len)
    pre = cost.evaluate(prefill_features(np.array([float(n_pre)]), q.prompt_len, w))
    fit = kv.tightest.max_concurrency if q.max_model_len >= q.prompt_len + q.output_len else 0
    n_dec = int(max(1, min(q.max_num_seqs, fit)))
    ctx = q.prompt_len + q.output_len // 2
    dec = cost.evaluate(decode_features(np.array([float(n_dec)]), ctx, w))
    pre_rps = n_pre / float(pre.bottleneck[0])
    dec_rps = n_dec / float(dec.bottleneck[0]) / q.output_len
    return Disaggregation(
        n_pre, pre_rps, n_dec, ctx, dec_rps, dec_rps / pre_rps, float(pre.latency[0]),
        float(dec.latency[0]),
        "(decode batch / decode step / output tokens) ÷ (prefill batch / prefill pass)",
        SRC_DISAGG,
    )  # fmt: skip


# ---------------------------------------------------------------- the answer


def _summary(stream: Stream, out: Outcome) -> dict[str, Any]:
    arrival = stream.arrival
    ttft = out.first_token - arrival
    outputs = np.array(stream.output, dtype=np.float64)
    decode = out.finish - out.first_token
    multi = outputs > 1
    tpot = decode[multi] / (outputs[multi] - 1)
    makespan = float(np.max(out.finish) - np.min(arrival))
    return {
        "makespan": makespan,
        "output_tokens": int(outputs.sum()),
        "tokens_per_second": float(outputs.sum()) / makespan if makespan > 0 else 0.0,
        "requests_per_second": len(outputs) / makespan if makespan > 0 else 0.0,
        "ttft_mean": float(ttft.mean()),
        "ttft_p50": float(np.percentile(ttft, 50)),
        "ttft_p99": float(np.percentile(ttft, 99)),
        "tpot_mean": float(tpot.mean()) if len(tpot) else 0.0,
        "mean_batch": out.token_steps / out.steps if out.steps else 0.0,
        "steps": out.steps,
        "busy_time": out.busy_time,
        "preemptions": int(sum(out.preemptions)),
        "peak_blocks": out.peak_blocks,
    }


def _trace(out: Outcome, stream: Stream) -> dict[str, Any]:
    ev = np.array(out.trace.events, dtype=np.int64).reshape(-1, 5)
    order = np.argsort(ev[:, 0], kind="stable")  # by step, in the order they happened
    ev = ev[order]
    seg = {k: np.array(v) for k, v in out.trace.seg.items()}
    return {
        "segments": seg,
        "events": {"step": ev[:, 0], "block": ev[:, 1], "count": ev[:, 2], "request": ev[:, 3],
                   "op": ev[:, 4],
                   "op_names": ["alloc", "free"]},
        "requests": {"arrival": stream.arrival, "prompt": np.array(stream.prompt),
                     "output": np.array(stream.output), "admitted": out.admitted,
                     "first_token": out.first_token, "finish": out.finish,
                     "preemptions": np.array(out.preemptions)},
    }  # fmt: skip


def _result(stream: Stream, out: Outcome, record: bool) -> dict[str, Any]:
    return {"summary": _summary(stream, out), "trace": _trace(out, stream) if record else None}


def _check(q: BatchingQuery, stream: Stream, blocks: int, bs: int) -> None:
    longest = max(p + o - 1 for p, o in zip(stream.prompt, stream.output, strict=True))
    if -(-longest // bs) > blocks:
        raise InvalidInput(
            "num_blocks" if q.num_blocks is not None else "max_model_len",
            f"a request of {longest:,} cached tokens needs {-(-longest // bs):,} blocks of {bs}; "
            f"the pool has {blocks:,}",
        )
    if q.max_model_len < 2:
        raise InvalidInput("max_model_len", "must leave room for a prompt and one output token")


def compute_batching(q: BatchingQuery) -> dict[str, Any]:
    """Both simulations, their figures and (up to the trace limit) their traces.

    For example 200 uniform requests at 10/s on Llama 3 8B and one H100 finish in about 20 s
    with continuous batching, and take longer with static batching.
    """
    kv = compute_kv(KVQuery(**{f.name: getattr(q, f.name) for f in dataclasses.fields(KVQuery)}))
    s = kv.serving
    cost = build_cost(
        s, CostQuery(**{f.name: getattr(q, f.name) for f in dataclasses.fields(CostQuery)})
    )
    bs = kv.block_size
    blocks = q.num_blocks if q.num_blocks is not None else kv.tightest.num_blocks
    if blocks < 1:
        field = "memory_fraction" if q.memory_fraction is not None else "gpu"
        raise InvalidInput(field, f"the weights leave no room for a KV cache on {s.gpu.name}")
    stream = make_stream(q)
    _check(q, stream, blocks, bs)
    record = q.trace and q.requests <= limit("batching_trace_requests")
    cont = Engine(cost, stream, blocks, bs, q.max_num_seqs, q.max_batched_tokens, record).run()
    stat = run_static(q, cost, stream, blocks, bs, record)
    notes = [
        "One replica: a step runs through every pipeline stage in turn.",
        "Preemption recomputes: the victim's blocks are freed and its prompt plus generated "
        "tokens are prefilled again when it is readmitted.",
        f"Static batching reserves max_model_len ({q.max_model_len:,}) tokens per request, "
        "as servers did before paged attention.",
    ]
    if q.trace and not record:
        notes.append(
            f"The trace is sent for streams up to {limit('batching_trace_requests'):,} "
            "requests; these are the figures only."
        )
    return {
        "query": {**effective(q), **kv.effective()},
        "block_size": bs, "num_blocks": blocks, "block_bytes": kv.tightest.block_bytes,
        "engine": kv.engine.name,
        "kv": kv_payload(kv),
        "continuous": _result(stream, cont, record),
        "static": _result(stream, stat, record),
        "disaggregation": dataclasses.asdict(disaggregation(q, cost, kv)),
        "sources": [SRC_PAGED, SRC_ORCA, SRC_DISAGG],
        "notes": notes,
    }  # fmt: skip
