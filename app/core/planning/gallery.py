"""Published training runs, each reproduced by the convention its authors used.

Every row states a claim with numbers complete enough to recompute (model dimensions, GPUs,
sequence length, and a throughput, a step time, GPU-hours or achieved TFLOP/s), the figure the
source published from it, and the convention that figure was computed with. `reproduce` runs
the claim through the decoder under every convention of the row's family and reports each
one's reading of the published figure and its error: the stated convention lands within 2%,
the others show how far a reader using them would be off.

Families: `flops` (how FLOPs per token are counted), `peak` (BF16 or FP8, dense or sparse) and
`time` (a wall-clock reading of GPU-hours, which no convention changes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from app.core.planning.conventions import CONVENTIONS, PEAKS, REFERENCE
from app.core.planning.decoder import ThroughputQuery, ThroughputResult, decode
from app.core.planning.links import query_string

Quantity = Literal["mfu", "tflops_per_gpu", "days"]
Family = Literal["flops", "peak", "time"]
TOLERANCE = 0.02

SRC_LLAMA3 = "Llama 3 paper (arXiv 2407.21783) §3.3.2, Table 4"
SRC_MEGATRON = "Narayanan et al. 2021 (arXiv 2104.04473)"
SRC_MTNLG = "Smith et al. 2022, MT-NLG (arXiv 2201.11990) §2.4"
SRC_MPT = "MosaicML llm-foundry scripts/train/benchmarking/README.md"
SRC_DEEPSEEK = "DeepSeek-V3 technical report (arXiv 2412.19437) §1, Table 1"

# GPT architectures of the papers (GeLU MLP of 4h, LayerNorm; vocabulary padded to 51,200 as
# Megatron-LM does, Table 1)
GPT3_175B = {
    "layers": 96,
    "hidden": 12288,
    "heads": 96,
    "vocab": 51200,
    "mlp": "gelu",
    "norm": "layernorm",
}
MEGATRON_1T = {
    "layers": 128,
    "hidden": 25600,
    "heads": 160,
    "vocab": 51200,
    "mlp": "gelu",
    "norm": "layernorm",
}
MTNLG = {
    "layers": 105,
    "hidden": 20480,
    "heads": 128,
    "vocab": 51200,
    "mlp": "gelu",
    "norm": "layernorm",
}
# MPT yamls (llm-foundry scripts/train/yamls/pretrain/mpt-*.yaml); N per row from NumParams
MPT_3B = {
    "layers": 32,
    "hidden": 2560,
    "heads": 20,
    "vocab": 50368,
    "mlp": "gelu",
    "norm": "layernorm",
}
MPT_7B = {
    "layers": 32,
    "hidden": 4096,
    "heads": 32,
    "vocab": 50368,
    "mlp": "gelu",
    "norm": "layernorm",
}
MPT_30B = {
    "layers": 48,
    "hidden": 7168,
    "heads": 56,
    "vocab": 50368,
    "mlp": "gelu",
    "norm": "layernorm",
}


@dataclass(frozen=True)
class PublishedRun:
    name: str
    title: str
    source: str
    claim: dict[str, Any]
    """ThroughputQuery fields of the claim."""
    quantity: Quantity
    published: float
    published_text: str
    family: Family
    convention: str
    """The stated convention: a FLOPs convention, a peak, or "wall_clock"."""
    flops: str = REFERENCE
    """For peak rows: the FLOPs count the utilisation is read with."""
    note: str = ""

    def query(self, **overrides: Any) -> ThroughputQuery:
        return ThroughputQuery(**(self.claim | overrides))


def _llama3(row: int, gpus: int, tflops: int, mfu: int, layout: dict[str, int]) -> PublishedRun:
    seq = 131072 if layout["cp"] > 1 else 8192
    return PublishedRun(
        f"llama3-405b-table4-{row}",
        f"Llama 3 405B pre-training, {gpus:,} H100s, {seq // 1024}K context",
        f"{SRC_LLAMA3}, row {row}",
        {
            "model": "llama3-405b",
            "gpu": "h100-sxm",
            "gpus": gpus,
            "seq_len": seq,
            "tflops_per_gpu": tflops,
            "global_batch_tokens": 16 * 1024 * 1024,
            "zero": 1,
            "recompute": "selective",
            "sequence_parallel": True,
            **layout,
        },
        "mfu",
        mfu / 100,
        f"{mfu}% BF16 MFU",
        "peak",
        "bf16_dense",
        note=f"{tflops} TFLOP/s per GPU over the BF16 dense peak; the table does not say how the "
        "FLOPs were counted, which cancels here.",
    )


def _mtnlg(nodes: int, seconds: float, tflops: int) -> PublishedRun:
    gpus = nodes * 8
    return PublishedRun(
        f"mt-nlg-530b-{gpus}",
        f"MT-NLG 530B, {gpus:,} A100s, {seconds} s per step",
        SRC_MTNLG,
        {
            **MTNLG,
            "params": 530e9,
            "gpu": "a100-80gb",
            "gpus": gpus,
            "seq_len": 2048,
            "step_time": seconds,
            "global_batch_tokens": 1920 * 2048,
            "recompute": "full",
        },
        "tflops_per_gpu",
        tflops,
        f"{tflops} TFLOP/s per GPU",
        "flops",
        "megatron_hfu",
        note="Batch 1,920 sequences of 2,048 tokens; activation checkpointing, so Megatron's "
        "96·L·h²(…) counts the recomputed forward.",
    )


def _mpt(
    name: str,
    dims: dict[str, Any],
    n: int,
    seq: int,
    gpu: str,
    tokens: float,
    published: float,
    quantity_text: str,
    family: Family,
    convention: str,
    recompute: str = "none",
) -> PublishedRun:
    label = {"a100-80gb": "A100 80GB", "h100-sxm": "H100"}[gpu]
    return PublishedRun(
        f"mpt-{name}",
        f"MPT-{name.split('-')[0].upper()} on 8 × {label}, {seq:,} tokens",
        f"{SRC_MPT} ({label}, seq {seq})",
        {
            **dims,
            "params": n,
            "gpu": gpu,
            "gpus": 8,
            "seq_len": seq,
            "tokens_per_second": tokens,
            "recompute": recompute,
            "peak": "fp8" if "fp8" in convention else "bf16",
        },
        "mfu",
        published / 100,
        quantity_text,
        family,
        convention,
        flops="6n_attention",
    )


RUNS: tuple[PublishedRun, ...] = (
    _llama3(1, 8192, 430, 43, {"tp": 8, "cp": 1, "pp": 16, "dp": 64}),
    _llama3(2, 16384, 400, 41, {"tp": 8, "cp": 1, "pp": 16, "dp": 128}),
    _llama3(3, 16384, 380, 38, {"tp": 8, "cp": 16, "pp": 16, "dp": 8}),
    PublishedRun(
        "megatron-1t-table1",
        "Megatron-LM GPT 1T, 3,072 A100s",
        f"{SRC_MEGATRON} Table 1 (last row: 1,008B parameters, TP 8, PP 64, batch 3,072)",
        {
            **MEGATRON_1T,
            "params": 1008e9,
            "gpu": "a100-80gb",
            "gpus": 3072,
            "seq_len": 2048,
            "tflops_per_gpu": 163,
            "tflops_convention": "megatron_hfu",
            "recompute": "full",
            "tp": 8,
            "pp": 64,
            "global_batch_tokens": 3072 * 2048,
        },
        "mfu",
        0.52,
        "52% of peak",
        "peak",
        "bf16_dense",
        flops="megatron_hfu",
        note="Achieved FLOP/s by eq. (3), recomputation included: an HFU.",
    ),
    PublishedRun(
        "gpt3-175b-34-days",
        "GPT-3 175B on 1,024 A100s: 34 days for 300B tokens",
        f"{SRC_MEGATRON} §5.1 (X = 140 TFLOP/s per GPU, batch 1,536, eq. 4)",
        {
            **GPT3_175B,
            "params": 175e9,
            "gpu": "a100-80gb",
            "gpus": 1024,
            "seq_len": 2048,
            "tflops_per_gpu": 140,
            "recompute": "full",
            "train_tokens": 300e9,
        },
        "days",
        34,
        "34 days",
        "flops",
        "8n",
        note="The paper turns X into days with 8TP/(nX): 8N FLOPs per token.",
    ),
    PublishedRun(
        "megatron-1t-84-days",
        "GPT 1T on 3,072 A100s: 84 days for 450B tokens",
        f"{SRC_MEGATRON} §5.1 (X = 163 TFLOP/s per GPU, eq. 4; P from Table 1)",
        {
            **MEGATRON_1T,
            "params": 1008e9,
            "gpu": "a100-80gb",
            "gpus": 3072,
            "seq_len": 2048,
            "tflops_per_gpu": 163,
            "recompute": "full",
            "train_tokens": 450e9,
        },
        "days",
        84,
        "84 days",
        "flops",
        "8n",
    ),
    PublishedRun(
        "gpt3-175b-table2-384",
        "GPT-3 175B on 384 A100s (PTD-P): 84 days for 300B tokens",
        f"{SRC_MEGATRON} Table 2 (174.6B parameters, batch 1,536, 153 TFLOP/s per GPU)",
        {
            **GPT3_175B,
            "params": 174.6e9,
            "gpu": "a100-80gb",
            "gpus": 384,
            "seq_len": 2048,
            "tflops_per_gpu": 153,
            "recompute": "full",
            "train_tokens": 300e9,
        },
        "days",
        84,
        "84 days",
        "flops",
        "megatron_hfu",
        note="Table 2's days follow eq. (3) itself, logits and attention included.",
    ),
    _mtnlg(280, 60.1, 126),
    _mtnlg(350, 50.2, 121),
    _mtnlg(420, 44.4, 113),
    _mpt(
        "7b-h100",
        MPT_7B,
        6658859008,
        2048,
        "h100-sxm",
        85144,
        46.44,
        "46.44% MFU",
        "flops",
        "6n_attention",
    ),
    _mpt(
        "7b-h100-checkpointing",
        MPT_7B,
        6667247616,
        4096,
        "h100-sxm",
        68893,
        53.9,
        "53.9% HFU",
        "flops",
        "6n_attention_hfu",
        recompute="full",
    ),
    _mpt(
        "3b-h100-fp8",
        MPT_3B,
        2651837440,
        2048,
        "h100-sxm",
        244692,
        27.7,
        "27.7% MFU (FP8)",
        "peak",
        "fp8_dense",
    ),
    _mpt(
        "30b-a100",
        MPT_30B,
        29975214080,
        2048,
        "a100-80gb",
        7330,
        55.3,
        "55.3% MFU",
        "flops",
        "6n_attention",
        recompute="full",
    ),
    PublishedRun(
        "deepseek-v3-pretraining",
        "DeepSeek-V3 pre-training: 2,664K H800 GPU-hours for 14.8T tokens",
        f"{SRC_DEEPSEEK} (180K GPU-hours per trillion tokens, i.e. 3.7 days on 2,048 H800s)",
        {
            "model": "deepseek-v3",
            "gpu": "h100-sxm",
            "gpus": 2048,
            "seq_len": 4096,
            "gpu_hours": 2.664e6,
            "gpu_hours_tokens": 14.8e12,
            "peak": "fp8",
            "train_tokens": 1e12,
        },
        "days",
        3.7,
        "3.7 days per trillion tokens",
        "time",
        "wall_clock",
        note="H800 = H100 compute with NVLink cut to 400 GB/s; trained in FP8. The report gives "
        "no MFU: the decoder shows what the GPU-hours imply under each convention.",
    ),
)


@dataclass(frozen=True)
class Reading:
    convention: str
    title: str
    value: float
    error: float


@dataclass(frozen=True)
class Reproduction:
    run: PublishedRun
    result: ThroughputResult
    stated: Reading
    others: tuple[Reading, ...] = field(default_factory=tuple)

    @property
    def within(self) -> bool:
        return abs(self.stated.error) <= TOLERANCE


def _reading(name: str, title: str, value: float, published: float) -> Reading:
    return Reading(name, title, value, value / published - 1)


def _flops_readings(run: PublishedRun, res: ThroughputResult) -> list[Reading]:
    if run.quantity == "days":  # the claim is FLOP/s: each convention turns it into tokens
        out = []
        for c in CONVENTIONS.values():
            if not c.applies(res.setup.dims, run.query().recompute):
                continue
            days = decode(run.query(tflops_convention=c.name)).implied()["days"]
            out.append(_reading(c.name, c.title, days, run.published))
        return out
    key = "mfu" if run.quantity == "mfu" else "tflops_per_gpu"
    return [
        _reading(r.convention.name, r.convention.title, getattr(r, key), run.published)
        for r in res.conventions
    ]


def _peak_readings(run: PublishedRun, res: ThroughputResult) -> list[Reading]:
    achieved = res.convention(run.flops).tflops_per_gpu
    out = []
    for p in PEAKS.values():
        tflops = p.tflops(res.setup.gpu)
        if tflops is not None:
            out.append(_reading(p.name, p.title, achieved / tflops, run.published))
    return out


def reproduce(run: PublishedRun) -> Reproduction:
    """Read `run`'s published figure from its claim under every convention of its family.

    For example MT-NLG's 60.1 s per step on 2,240 A100s reads 125.7 TFLOP/s per GPU by
    Megatron's recompute-inclusive formula (published: 126, −0.2%) and 92.9 by 6N (−26%).
    """
    res = decode(run.query())
    if run.family == "time":
        days = res.implied()["days"]
        stated = _reading(run.convention, "GPU-hours / GPUs", days, run.published)
        return Reproduction(run, res, stated)
    readings = _flops_readings(run, res) if run.family == "flops" else _peak_readings(run, res)
    stated = next(r for r in readings if r.convention == run.convention)
    return Reproduction(run, res, stated, tuple(r for r in readings if r is not stated))


def claim_query(run: PublishedRun) -> str:
    """The /throughput query string of `run`'s claim (parameters left at default omitted)."""
    return query_string(run.query(), ThroughputQuery())


def _reading_dict(r: Reading) -> dict[str, Any]:
    return {"convention": r.convention, "title": r.title, "value": r.value, "error": r.error}


def gallery_payload() -> dict[str, Any]:
    """The JSON body of GET /api/v1/throughput/gallery: every run reproduced."""
    from app.core.planning.decoder_payload import claim_text

    runs = []
    for run in RUNS:
        rep = reproduce(run)
        runs.append(
            {
                "name": run.name,
                "title": run.title,
                "source": run.source,
                "family": run.family,
                "claim": {"kind": rep.result.claim, "text": claim_text(rep.result)},
                "throughput_query": claim_query(run),
                "published": {
                    "quantity": run.quantity,
                    "value": run.published,
                    "text": run.published_text,
                },
                "convention": run.convention,
                "reproduced": _reading_dict(rep.stated),
                "within": rep.within,
                "others": [_reading_dict(r) for r in rep.others],
                "note": run.note,
            }
        )
    conventions = [
        {"name": c.name, "title": c.title, "kind": c.kind, "formula": c.formula,
         "source": c.source, "recompute": list(c.recompute)}
        for c in CONVENTIONS.values()
    ]  # fmt: skip
    peaks = [{"name": p.name, "title": p.title} for p in PEAKS.values()]
    return {"tolerance": TOLERANCE, "conventions": conventions, "peaks": peaks, "runs": runs}
