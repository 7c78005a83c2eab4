"""What collectives actually reach on each GPU preset: achievable, not peak.

A datasheet gives the line rate of a link (NVLink 4: 450 GB/s per GPU per direction); NCCL
reaches about 80% of it on large messages and far less on small ones. This module holds, per
GPU preset, the two numbers nccl-tests measures for each link (Hockney's r∞ and n½):

- `bus_bandwidth`: the bus bandwidth ("busbw", nccl-tests PERFORMANCE.md) of large messages,
  with NVLink SHARP (NVLS) separately where the system has it;
- `half_bandwidth_bytes`: the all-reduce size at which half of it is reached, on
  `reference_ranks` GPUs.

The alpha-beta model of `app.core.parallel.collectives` turns them into a bandwidth per link
and a latency per algorithm step: a ring all-reduce over n ranks takes 2(n−1) steps of
α + S/(nB), so its bus bandwidth is B·S/(S + nαB) and n½ = n·α·B, i.e.
α = n½ / (n·B). For example 8 × H200 with NVLS: B = 480 GB/s, n½ = 11.8 MB gives
α = 11.8e6 / (8 × 480e9) = 3.1 µs per step, and a 1 MiB all-reduce reaches 39 GB/s (latency-bound)
while a 1 GiB one reaches 475 GB/s.

Measured figures (nccl-tests busbw, large messages) are cited at each entry; where no curve was
published, n½ comes from the per-step latency fitted on the measured curves (`NVLINK_STEP_LATENCY`,
`NETWORK_STEP_LATENCY`), which the entry says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.core.errors import UnknownName
from app.core.parallel.presets import GPUS, GPUPreset

LinkKind = Literal["intra_node", "network"]

_GB = 1e9

# Fitted to stas00/ml-engineering network/benchmarks/results/all-reduce-8xH200.md (NCCL 2.27,
# 8 x H200, 32 KiB .. 16 GiB; Ring/LL up to 1 MiB, NVLS above): the Hockney curve
# B·S/(S + n½) with B = 480 GB/s fits best at n½ = 11.8 MB, i.e. α = n½/(8B) = 3.1 µs per
# ring step. Used for the intra-node link of every preset without a published sweep.
NVLINK_STEP_LATENCY = 3.1e-6
# Fitted to the 2-node, 1 GPU per node all_reduce_perf table in NVIDIA/nccl-tests issue #232
# (H100, NDR InfiniBand, 2 MiB .. 32 MiB): B = 47 GB/s, n½ = 3.1 MB on 2 ranks, so
# α = n½/(2B) = 33 µs per step over the network.
NETWORK_STEP_LATENCY = 33e-6
# NVIDIA/nccl-tests issue #267 (NVIDIA): "CX-7 NICs at NDR rate (400Gbps) should achieve up to
# 48-49GB/s per NIC"; docs/sources.md: one 400 Gb/s NIC ≈ 46–48 GB/s. 47/50 = 94% of the line rate.
NIC_EFFICIENCY = 0.94


@dataclass(frozen=True)
class LinkCalibration:
    """The achievable figures of one link kind of one GPU preset."""

    kind: LinkKind
    title: str
    peak_bandwidth: float
    """Line rate per GPU, one direction, bytes/s (the GPU preset's datasheet figure)."""
    bus_bandwidth: float
    """nccl-tests busbw of large messages (ring / non-NVLS), bytes/s per GPU."""
    nvls_bus_bandwidth: float | None
    """All-reduce busbw with NVLink SHARP (in-switch reduction), if the system has it."""
    reference_ranks: int
    """The all-reduce the half-bandwidth size was measured (or derived) on."""
    step_latency: float
    """α: seconds per algorithm step (n½ = reference_ranks · α · bus_bandwidth)."""
    source: str

    @property
    def half_bandwidth_bytes(self) -> float:
        """n½ of a ring all-reduce on `reference_ranks` GPUs: where busbw is half of B."""
        return self.reference_ranks * self.step_latency * self.bus_bandwidth

    @property
    def efficiency(self) -> float:
        """Achievable over peak, e.g. 370 / 450 = 0.82 for NVLink 4."""
        return self.bus_bandwidth / self.peak_bandwidth


@dataclass(frozen=True)
class NetworkCalibration:
    """Both links of one GPU preset (one NIC per GPU on the network side)."""

    gpu: str
    gpus_per_node: int
    intra_node: LinkCalibration
    network: LinkCalibration

    def link(self, kind: LinkKind) -> LinkCalibration:
        return self.intra_node if kind == "intra_node" else self.network


def _nic(gpu: GPUPreset) -> LinkCalibration:
    gbits = round(gpu.network_bandwidth * 8 / _GB)
    return LinkCalibration(
        kind="network",
        title=f"{gbits} Gb/s NIC per GPU",
        peak_bandwidth=gpu.network_bandwidth,
        bus_bandwidth=gpu.network_bandwidth * NIC_EFFICIENCY,
        nvls_bus_bandwidth=None,
        reference_ranks=2,
        step_latency=NETWORK_STEP_LATENCY,
        source="nccl-tests issue #267: a 400 Gb/s CX-7 NIC reaches 48–49 GB/s (94% of the "
        "line rate, assumed for every NIC); α fitted on the table of nccl-tests issue #232 "
        f"({NETWORK_STEP_LATENCY * 1e6:g} µs per step)",
    )


def _nvlink(
    gpu: GPUPreset, bus: float, nvls: float | None, source: str, latency: float | None = None
) -> LinkCalibration:
    return LinkCalibration(
        kind="intra_node",
        title=gpu.intra_node_link,
        peak_bandwidth=gpu.intra_node_bandwidth,
        bus_bandwidth=bus,
        nvls_bus_bandwidth=nvls,
        reference_ranks=8,
        step_latency=NVLINK_STEP_LATENCY if latency is None else latency,
        source=source,
    )


def _calibrations() -> dict[str, NetworkCalibration]:
    g = GPUS
    intra = {
        # docs/sources.md: 8x A100 NVLink ≈ 230 GB/s all-reduce busbw; stas00/ml-engineering
        # network/README.md measured 235 GB/s (80% of 300). NVSwitch gen 2 has no SHARP.
        "a100-80gb": _nvlink(
            g["a100-80gb"],
            230 * _GB,
            None,
            "docs/sources.md: 8× A100 all-reduce busbw ≈ 230 GB/s (ml-engineering measured 235); "
            "no NVLink SHARP on NVSwitch gen 2; α assumed from the 8× H200 fit",
        ),
        # NVIDIA/nccl-tests issue #212 (NVIDIA): "NCCL can get an effective NVLink bandwidth
        # of 370GB/s ... On 8 GPUs, you should reach a peak busBw of ~480GB/s" with NVLS.
        "h100-sxm": _nvlink(
            g["h100-sxm"],
            370 * _GB,
            480 * _GB,
            "nccl-tests issue #212: 370 GB/s ring busbw, ≈ 480 GB/s with NVLS on 8 GPUs; "
            "α assumed from the 8× H200 fit",
        ),
        # stas00/ml-engineering: 8x H200 all-reduce 482 GB/s at 16 GiB with NVLS, 367.61 GB/s
        # with SHARP disabled; the sweep of all-reduce-8xH200.md fixes α (see above).
        "h200": _nvlink(
            g["h200"],
            368 * _GB,
            480 * _GB,
            "ml-engineering all-reduce-8xH200.md: 482 GB/s with NVLS at 16 GiB, 367.6 GB/s "
            "without; n½ = 11.8 MB fitted on its 32 KiB–16 GiB sweep",
        ),
        # docs/sources.md: 8x B200 ≈ 840 GB/s with NVLS. No ring figure is published: 82% of the
        # 900 GB/s line rate, the ring efficiency measured on NVLink 4 (370 / 450).
        "b200": _nvlink(
            g["b200"],
            738 * _GB,
            840 * _GB,
            "docs/sources.md: 8× B200 ≈ 840 GB/s with NVLS; ring busbw assumed 82% of 900 GB/s "
            "(the NVLink 4 ring efficiency, 370/450); α assumed from the 8× H200 fit",
        ),
        # stas00/ml-engineering network/README.md: all_reduce_bench on 8x MI300X, 4 GB payload:
        # 312.9 GB/s busbw (2 GPUs: 47.7 GB/s, one 64 GB/s xGMI link). No in-switch reduction.
        "mi300x": _nvlink(
            g["mi300x"],
            312.9 * _GB,
            None,
            "ml-engineering network/README.md: 8× MI300X all-reduce busbw 312.9 GB/s at 4 GB; "
            "α assumed from the 8× H200 fit",
        ),
    }
    return {
        name: NetworkCalibration(name, GPUS[name].gpus_per_node, link, _nic(GPUS[name]))
        for name, link in intra.items()
    }


CALIBRATIONS: dict[str, NetworkCalibration] = _calibrations()


def calibration(gpu: str, field: str = "gpu") -> NetworkCalibration:
    """The calibration of a GPU preset, by its preset name.

    For example ``calibration("h100-sxm").intra_node.bus_bandwidth == 370e9``.
    """
    try:
        return CALIBRATIONS[gpu]
    except KeyError:
        raise UnknownName("gpu", gpu, CALIBRATIONS, field) from None
