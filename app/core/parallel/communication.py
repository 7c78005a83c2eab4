"""The communication bill of one training step, and the step time it leads to.

`compute_communication(CommunicationQuery(model="llama3-70b", tp=8, pp=4, dp=8, ...))` takes
the memory endpoint's parameters (the same model, GPU and layout resolution,
`app.core.parallel.memory_query.resolve`) plus link figures and overlap switches, and returns:

- `bill`: per axis, every collective one GPU runs in a step (`communication_terms`), how often,
  its buffer (nccl-tests' convention), the bytes the GPU puts on the wire, the link, the time
  on the alpha-beta model (`collective_algorithms`), and the part not hidden behind compute;
- the compute time: FLOPs per token (`flops`) over the GPU's dense peak at
  `compute_efficiency`;
- the step time from `step_time`: compute + exposed communication + the pipeline bubble,
  simulated with these costs.

Overlap is a stated assumption per axis (`overlap_tp`, ...): an overlapped collective hides
behind the compute of the same pass (the forward or backward of the same microbatch; the
gradient reduction behind the last microbatch's backward, the parameter all-gather behind the
first forward) and only its excess is exposed; collectives of one pass share that window.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from app.core.errors import InvalidInput
from app.core.parallel.collective_algorithms import (
    OPS,
    LinkQuery,
    default_algorithm,
    phase_table,
    resolve_links,
)
from app.core.parallel.communication_terms import (
    Call,
    RankShare,
    data_parallel_calls,
    layer_calls,
    pipeline_calls,
)
from app.core.parallel.flops import head_flops, layer_flops, training_flops_per_token
from app.core.parallel.memory_layout import stage_layouts
from app.core.parallel.memory_query import MemoryQuery, MemorySetup
from app.core.parallel.memory_query import resolve as resolve_memory
from app.core.parallel.memory_stages import parameter_count
from app.core.parallel.network import NetworkCalibration, calibration
from app.core.parallel.presets import PARALLEL_PRESETS
from app.core.parallel.step_time import StageCost, StepInput, StepTime, step_time
from app.core.params import param

OVERLAPS: dict[str, str] = {
    "tp": "TP collectives hide behind the layer's compute (async TP / comm overlap)",
    "cp": "ring-attention K/V passes hide behind the attention compute",
    "ep": "expert all-to-alls hide behind compute (DualPipe-style overlap)",
    "pp": "pipeline sends are asynchronous: only their latency on the dependency path counts",
    "dp": "gradient reduce-scatter / all-reduce is bucketed into the backward",
    "zero": "parameter all-gathers are prefetched behind compute",
}


@dataclass(frozen=True)
class CommunicationQuery(MemoryQuery, LinkQuery):
    """The memory endpoint's parameters, plus links, compute efficiency and overlap."""

    compute_dtype: Literal["bf16", "fp8"] = param(
        "bf16", "Tensor-core peak used for compute: bf16 or fp8 (dense).", example="bf16"
    )
    compute_efficiency: float = param(
        0.5,
        "Fraction of the dense peak the kernels reach (compute only; communication and the "
        "bubble are counted separately).",
        example=0.5,
        ge=0.01,
        le=1,
    )
    schedule: str | None = param(
        None,
        "Pipeline schedule (default 1f1b, interleaved_1f1b when chunks > 1).",
        example="1f1b",
        max_length=40,
    )
    cp_algorithm: Literal["ring", "ulysses"] = param(
        "ring", "Context parallelism: ring attention or Ulysses all-to-all.", example="ring"
    )
    overlap_tp: bool = param(False, OVERLAPS["tp"] + ".", example=False)
    overlap_cp: bool = param(True, OVERLAPS["cp"] + ".", example=True)
    overlap_ep: bool = param(False, OVERLAPS["ep"] + ".", example=False)
    overlap_pp: bool = param(True, OVERLAPS["pp"] + ".", example=True)
    overlap_dp: bool = param(True, OVERLAPS["dp"] + ".", example=True)
    overlap_zero: bool = param(True, OVERLAPS["zero"] + ".", example=True)

    def memory_query(self) -> MemoryQuery:
        return MemoryQuery(**{f.name: getattr(self, f.name) for f in fields(MemoryQuery)})


@dataclass(frozen=True)
class Priced:
    """A `Call` with its cost on one GPU: `count` calls together."""

    call: Call
    local_ranks: int
    nodes: int
    algorithm: str
    link: str
    time: float
    time_intra: float
    time_network: float
    wire_bytes: float
    overlapped: bool
    collectives_query: str
    exposed: float = 0.0


@dataclass(frozen=True)
class Example:
    name: str
    title: str
    query: str
    source: str


def examples() -> list[Example]:
    """Published layouts with the microbatches their batch size implies."""
    # Llama 3 (arXiv 2407.21783 §3.4.1): 16M-token batches of 8,192-token sequences = 2,048
    # sequences, over DP 64 (8K GPUs) or 128 (16K GPUs) with micro-batch 1.
    out = []
    for name in ("llama3-405b-8k", "llama3-405b-16k", "llama3-70b-64"):
        p = PARALLEL_PRESETS[name]
        dp = p.sizes.get("dp", 1) * p.sizes.get("ep", 1)
        m = p.global_batch // (dp * p.micro_batch * p.seq_len)  # the preset's batch per replica
        out.append(Example(name, p.title, f"{p.memory_query()}&microbatches={m}", p.source))
    return out


@dataclass(frozen=True, eq=False)
class CommunicationResult:
    query: CommunicationQuery
    setup: MemorySetup
    gpus_per_node: int
    peak: float
    schedule: str
    bill: tuple[Priced, ...]
    step: StepTime
    flops_per_token: int
    model_flops_per_gpu: float
    notes: tuple[str, ...]

    def payload(self) -> dict[str, Any]:
        from app.core.parallel.communication_payload import communication_payload

        return communication_payload(self)


def _check(q: CommunicationQuery, setup: MemorySetup) -> None:
    if q.mode != "train":
        raise InvalidInput("mode", "the bill is of one training step; use mode=train")
    if setup.model is None:
        raise InvalidInput(
            "params", "the bill needs an architecture: give model= or layers, hidden and heads"
        )


def _stage_costs(
    q: CommunicationQuery, setup: MemorySetup, peak: float
) -> tuple[list[float], list[float]]:
    """Forward and backward compute seconds per microbatch of every virtual stage."""
    m = setup.model
    assert m is not None
    p, v = q.pp, setup.chunks  # the memory setup resolves the default chunks
    tokens = q.micro_batch * setup.tokens
    per_second = peak * q.compute_efficiency * q.tp
    dense, moe = layer_flops(m, False, q.seq_len), layer_flops(m, True, q.seq_len)
    fwd, bwd = [], []
    for st in stage_layouts(m.layers, m.n_dense_layers, p * v, 1):
        flops = st.dense_layers * dense.forward + st.moe_layers * moe.forward
        if st.has_lm_head:
            flops += head_flops(m)
        f = tokens * flops / per_second
        extra = 0.0
        if q.recompute == "full":
            extra = f
        elif q.recompute == "selective":  # the attention scores are recomputed
            attn = st.dense_layers * dense.attention + st.moe_layers * moe.attention
            extra = tokens * attn / per_second
        fwd.append(f)
        bwd.append(2 * f + extra)
    return fwd, bwd


def _share(setup: MemorySetup, rank: int) -> RankShare:
    st = setup.stages[rank]
    count = parameter_count(setup, st)
    if count.expert is not None and setup.query.ep > 1:
        dense = int(count.dense.value) if count.dense is not None else 0
        return RankShare(st.dense_layers, st.moe_layers, dense, int(count.expert.value))
    return RankShare(st.dense_layers, st.moe_layers, int(count.psi.value), 0)


def _query_string(pairs: dict[str, object]) -> str:
    return "&".join(f"{k}={v}" for k, v in pairs.items() if v is not None)


def _price(call: Call, q: CommunicationQuery, cal: NetworkCalibration, per_node: int) -> Priced:
    place = call.group.placement(per_node)
    nvls_on = cal.intra_node.nvls_bus_bandwidth is not None if q.nvls is None else q.nvls
    op = call.collective
    overrides = q.overrides()
    use_nvls = bool(nvls_on and op == "all_reduce" and not place.spans_nodes)
    links = resolve_links(cal, nvls=use_nvls, given=q)
    if op == "send_recv":  # one send to the neighbouring stage: a 2-rank, 1-piece broadcast
        net = place.local == 1
        hop = links.network if net else links.intra_node
        t = hop.latency + call.buffer_bytes / hop.bandwidth
        query = {"op": "broadcast", "algorithm": "ring", "ranks": 2, "chunks": 1,
                 "gpus_per_node": 1 if net else 2}  # fmt: skip
        return Priced(
            call, place.local, place.nodes, "send_recv", "network" if net else "intra_node",
            call.count * t, 0.0 if net else call.count * t, call.count * t if net else 0.0,
            float(call.count * call.buffer_bytes), q.overlap_pp,
            _query_string({**query, "bytes": call.buffer_bytes, "gpu": cal.gpu, **overrides}),
        )  # fmt: skip
    algorithm = default_algorithm(op, place)
    table = phase_table(op, algorithm, place, 0, place.ranks)
    t = table.time(call.buffer_bytes, links)
    t_intra, t_net = table.by_link(call.buffer_bytes, links)
    link = "both" if t_intra and t_net else "network" if t_net else "intra_node"
    factor = OPS[op].bus_factor(place.ranks)
    query = {"op": op, "algorithm": algorithm, "ranks": place.ranks, "bytes": call.buffer_bytes,
             "gpu": cal.gpu, "gpus_per_node": place.local, "nvls": q.nvls, **overrides}  # fmt: skip
    return Priced(
        call, place.local, place.nodes, algorithm, link, call.count * t, call.count * t_intra,
        call.count * t_net, call.count * factor * call.buffer_bytes,
        bool(getattr(q, f"overlap_{call.overlap}")), _query_string(query),
    )  # fmt: skip


def _expose(
    bill: list[Priced], m: int, fwd_window: float, bwd_window: float
) -> tuple[list[Priced], float, float, float]:
    """Exposed seconds of every call, and of one rank: per microbatch in the forward and in
    the backward, and after the pipeline (see the module docstring)."""
    exposed = [0.0] * len(bill)
    per_mb = {"forward": 0.0, "backward": 0.0}
    pools: dict[str, list[int]] = {"forward": [], "backward": []}
    after = 0.0
    for i, p in enumerate(bill):
        c = p.call
        if c.axis == "pp":
            # asynchronous sends only delay the receiver (the simulated bubble); blocking
            # sends also stall the sender
            if not p.overlapped:
                exposed[i] = p.time
                per_mb[c.phase] += p.time / m
        elif c.per_microbatch:
            if p.overlapped:
                pools[c.phase].append(i)
            else:
                exposed[i] = p.time
                per_mb[c.phase] += p.time / m
        else:  # gradients hide behind the last backward, parameters behind the first forward
            window = bwd_window if c.overlap == "dp" else fwd_window
            per_call = p.time / c.count
            exposed[i] = c.count * max(0.0, per_call - window) if p.overlapped else p.time
            after += exposed[i]
    for phase, idx in pools.items():
        total = sum(bill[i].time for i in idx) / m
        excess = max(0.0, total - (fwd_window if phase == "forward" else bwd_window))
        per_mb[phase] += excess
        for i in idx:
            exposed[i] = bill[i].time * excess / total if total else 0.0
    priced = [replace(p, exposed=e) for p, e in zip(bill, exposed, strict=True)]
    return priced, per_mb["forward"], per_mb["backward"], after


def _notes(q: CommunicationQuery, setup: MemorySetup) -> list[str]:
    notes = [
        "Ranks are ordered as Megatron-LM orders them: TP innermost, then CP, EP (inside DP), "
        "DP, PP; a group that spans nodes runs hierarchically (rings inside nodes, then "
        "across them over one NIC per GPU).",
        "Activations and their gradients travel in bf16, gradients in 16 bits, parameters in "
        f"the weight dtype ({setup.weights.name}).",
        "Pipeline sends lie on the dependency path between stages: their latency is part of "
        "the simulated bubble.",
    ]
    if q.tp > 1 and q.sequence_parallel:
        notes.append(
            "Megatron-LM also re-gathers each layer's input in the backward for the weight "
            "gradient (one more all-gather per linear pair); the volumes here are the paper's."
        )
    if q.ep > 1:
        notes.append("DeepSeek-V3 dispatches tokens in FP8; here every all-to-all is bf16.")
    if q.zero >= 2:
        notes.append(
            f"ZeRO-{q.zero} keeps only a shard of the gradients, so they are reduce-scattered "
            "every microbatch."
        )
    return notes


def compute_communication(q: CommunicationQuery) -> CommunicationResult:
    """The bill and step time of one training step (see the module docstring).

    For example Llama 3 70B with tp=8 on one H100 node spends 4 all-reduces of b·s·h·2 bytes
    per layer per microbatch (2 forward, 2 backward).
    """
    setup = resolve_memory(q.memory_query())
    _check(q, setup)
    model = setup.model
    assert model is not None
    gpu, cal = setup.gpu, calibration(setup.gpu.name)
    if q.nvls and cal.intra_node.nvls_bus_bandwidth is None:
        raise InvalidInput("nvls", f"{gpu.name} has no NVLink SHARP figure; set nvls=false")
    tflops = gpu.bf16_tflops if q.compute_dtype == "bf16" else gpu.fp8_tflops
    if tflops is None:
        raise InvalidInput("compute_dtype", f"{gpu.name} has no FP8 tensor cores; use bf16")
    peak = tflops * 1e12
    per_node = q.gpus_per_node if q.gpus_per_node is not None else cal.gpus_per_node
    p, v, mb = q.pp, setup.chunks, setup.microbatches
    fwd, bwd = _stage_costs(q, setup, peak)
    exp_f, exp_b = [0.0] * (p * v), [0.0] * (p * v)
    bills, after = [], []
    p2p = 0.0
    for r in range(p):
        share = _share(setup, r)
        calls = (
            layer_calls(setup, share, mb, q.cp_algorithm)
            + pipeline_calls(setup, mb)
            + data_parallel_calls(setup, share, mb)
        )
        priced = [_price(c, q, cal, per_node) for c in calls]
        mine = range(r, p * v, p)  # virtual stage k·p + r runs on rank r
        f_r, b_r = sum(fwd[s] for s in mine), sum(bwd[s] for s in mine)
        priced, e_f, e_b, a = _expose(priced, mb, f_r, b_r)
        for s in mine:
            exp_f[s] = e_f * fwd[s] / f_r if f_r else 0.0
            exp_b[s] = e_b * bwd[s] / b_r if b_r else 0.0
        sends = [x for x in priced if x.call.axis == "pp"]
        if sends:
            p2p = sends[0].time / sends[0].call.count
        bills.append(priced)
        after.append(a)
    schedule = q.schedule if q.schedule is not None else "1f1b" if v == 1 else "interleaved_1f1b"
    stages = tuple(StageCost(fwd[s], bwd[s], exp_f[s], exp_b[s]) for s in range(p * v))
    try:
        st = step_time(StepInput(stages, p, v, mb, schedule, p2p, tuple(after)))
    except InvalidInput as e:
        # the simulator names its own parameters; say which of ours to change
        ours = {"stages": "pp", "p2p": "network_bandwidth"}.get(e.field)
        if ours is None and e.field not in ("microbatches", "chunks", "schedule"):
            ours = "compute_efficiency"
        if ours is not None:
            raise InvalidInput(ours, e.msg) from None
        raise
    per_token = training_flops_per_token(model, q.seq_len)
    model_flops = mb * q.micro_batch * q.seq_len * per_token / (q.tp * q.pp * q.cp)
    return CommunicationResult(
        query=q,
        setup=setup,
        gpus_per_node=per_node,
        peak=peak,
        schedule=st.schedule,
        bill=tuple(bills[st.critical_rank]),
        step=st,
        flops_per_token=per_token,
        model_flops_per_gpu=model_flops,
        notes=tuple(_notes(q, setup)),
    )
