"""The nccl-tests translator: published tables parse, fit to the figures quoted for them, and
the fitted query reproduces the table through /collectives' model."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from app.core.errors import InvalidInput, UnknownName
from app.core.parallel.collectives import CollectiveQuery, compute_collective
from app.core.parallel.nccl_tests import fit_hockney, fit_nccl_tests, parse_rows
from app.core.parallel.network import NETWORK_STEP_LATENCY, NVLINK_STEP_LATENCY

# NVIDIA/nccl-tests issue #232: 2 nodes, 1 H100 each, NDR InfiniBand, NCCL_ALGO=Tree
ISSUE_232 = """\
$ mpirun ... -np 2 ./all_reduce_perf -b 2M -e 16G -f 2 -n 10 -g 1 -w 10
#
#                                                              out-of-place                       in-place
#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw #wrong
#        (B)    (elements)                               (us)  (GB/s)  (GB/s)            (us)  (GB/s)  (GB/s)
     2097152        524288     float     sum      -1    113.2   18.53   18.53      0    93.35   22.46   22.46      0
     4194304       1048576     float     sum      -1    154.4   27.16   27.16      0    153.3   27.37   27.37      0
     8388608       2097152     float     sum      -1    231.4   36.24   36.24      0    227.8   36.83   36.83      0
    16777216       4194304     float     sum      -1    420.5   39.90   39.90      0    419.9   39.95   39.95      0
    33554432       8388608     float     sum      -1    812.3   41.31   41.31      0    808.2   41.52   41.52      0
"""  # noqa: E501

# stas00/ml-engineering all-reduce-8xH200.md: payload -> busbw (GB/s), NCCL 2.27, NVLS
H200 = {
    2**15: 1.44, 2**16: 2.93, 2**17: 5.73, 2**18: 11.74, 2**19: 23.94, 2**20: 39.93,
    2**21: 64.53, 2**22: 107.16, 2**23: 155.53, 2**24: 219.89, 2**25: 275.84, 2**26: 346.51,
    2**27: 401.93, 2**28: 436.15, 2**29: 450.29, 2**30: 463.58, 2**31: 469.17, 2**32: 473.10,
    2**33: 477.45, 2**34: 482.26,
}  # fmt: skip


def as_table(points: dict[int, float], factor: float, op: str = "all_reduce") -> str:
    """nccl-tests' own row format (common.cu) for busbw points: t = factor·S/busbw."""
    lines = [f"# Collective test starting: {op}_perf"]
    for size, busbw in points.items():
        t_us = factor * size / (busbw * 1e9) * 1e6
        algbw = busbw / factor
        row = f"{size:12d}  {size // 4:12d}  {'float':>8s}  {'sum':>6s}  {-1:6d}"
        cell = f"  {t_us:7.2f}  {algbw:6.2f}  {busbw:6.2f}  {0:5d}"
        lines.append(row + cell + cell)
    return "\n".join(lines) + "\n"


def test_issue_232_network_table() -> None:
    r = fit_nccl_tests(ISSUE_232)
    assert (r.op, r.ranks, r.ranks_from) == ("all_reduce", 2, "busbw/algbw ratio")
    assert r.rows.sizes.tolist() == [2**21, 2**22, 2**23, 2**24, 2**25]
    assert r.rows.times[0] == pytest.approx(113.2e-6)
    # NVIDIA (nccl-tests #267): a 400 Gb/s NIC reaches 48–49 GB/s; this run levels off near it
    assert 45e9 < r.fit.bus_bandwidth < 49e9
    # the network latency of app.core.parallel.network was fitted on exactly this table
    assert r.latency == pytest.approx(NETWORK_STEP_LATENCY, rel=0.05)
    assert r.fit.rms_relative_error < 0.05
    in_place = fit_nccl_tests(ISSUE_232, in_place=True)
    assert in_place.rows.times[0] == pytest.approx(93.35e-6)


def test_h200_sweep_recovers_the_calibration() -> None:
    r = fit_nccl_tests(as_table(H200, 1.75), ranks=8, gpu="h200")
    # a Hockney curve bends earlier than NCCL's: B lands within 10% of the 480 GB/s quoted
    assert r.fit.bus_bandwidth == pytest.approx(480e9, rel=0.10)
    assert r.latency == pytest.approx(NVLINK_STEP_LATENCY, rel=0.15)


def test_exact_hockney_data_fit_exactly() -> None:
    sizes = [float(2**k) for k in range(12, 32, 2)]
    import numpy as np

    s = np.array(sizes)
    fit = fit_hockney(s, 20e-6 + s / 100e9, factor=1.75)
    assert fit.bus_bandwidth == pytest.approx(175e9, rel=1e-9)
    assert fit.half_bandwidth_bytes == pytest.approx(2e6, rel=1e-9)
    assert fit.rms_relative_error < 1e-12


def test_formats_nccl_tests_has_printed() -> None:
    # an old all_gather_perf (no redop / root columns), MPI rank prefixes, N/A checks
    old = """\
# nThread 1 nGpus 1 minBytes 1024 maxBytes 1073741824 step: 4(factor)
#
# Using devices
#   Rank  0 Pid  1821 on node01 device  0 [0x07] NVIDIA A100-SXM4-80GB
#   Rank  1 Pid  1822 on node01 device  1 [0x0f] NVIDIA A100-SXM4-80GB
#   Rank  2 Pid  1823 on node01 device  2 [0x47] NVIDIA A100-SXM4-80GB
#   Rank  3 Pid  1824 on node01 device  3 [0x4e] NVIDIA A100-SXM4-80GB
#       size         count    type     time   algbw   busbw  error     time   algbw   busbw  error
[0]       65536          4096   float    20.00    3.28    2.46  0e+00    20.00    3.28    2.46    N/A
[0]    16777216       1048576   float    95.00  176.60  132.45  0e+00    95.00  176.60  132.45    N/A
[0]  1073741824      67108864   float  4800.00  223.70  167.77  0e+00  4800.00  223.70  167.77    N/A
"""  # noqa: E501
    r = fit_nccl_tests(old, op="all_gather")
    assert (r.ranks, r.ranks_from, r.bus_factor) == (4, "rank lines", 0.75)
    assert r.rows.sizes.tolist() == [65536, 16777216, 1073741824]
    assert r.rows.busbw[-1] == pytest.approx(167.77e9)


def test_op_and_ranks_come_from_the_text() -> None:
    text = as_table({2**20: 10.0, 2**30: 300.0}, 7 / 8, op="all_gather").replace(
        "all_gather_perf", "all_gather_perf -b 8 -e 1G"
    )
    r = fit_nccl_tests(text)
    assert (r.op, r.ranks, r.ranks_from) == ("all_gather", 8, "busbw/algbw ratio")
    # the given op wins over the text, with a warning
    r2 = fit_nccl_tests(text, op="reduce_scatter")
    assert r2.op == "reduce_scatter" and r2.warnings


def test_the_calibrated_query_reproduces_the_table() -> None:
    r = fit_nccl_tests(as_table(H200, 1.75), ranks=8, gpu="h200")
    params = dict(parse_qsl(r.calibrated_query))
    q = CollectiveQuery(
        op=params["op"],
        ranks=int(params["ranks"]),
        gpu=params["gpu"],
        bytes=2**30,
        bandwidth=float(params["bandwidth"]),
        latency=float(params["latency"]),
        steps=False,
    )
    model = compute_collective(q).bus_bandwidth
    fitted = 1.75 * 2**30 / (r.fit.overhead + 1.75 * 2**30 / r.fit.bus_bandwidth)
    assert model == pytest.approx(fitted, rel=0.01)  # 4 significant digits in the query


def test_garbage_is_a_422_naming_text() -> None:
    with pytest.raises(InvalidInput) as e:
        fit_nccl_tests("hello\nworld\n")
    assert e.value.field == "text"
    with pytest.raises(UnknownName):
        fit_nccl_tests(ISSUE_232, op="gather")
    one_row = ISSUE_232.splitlines()
    with pytest.raises(InvalidInput):
        fit_nccl_tests("\n".join(one_row[:6]))
    assert len(parse_rows(ISSUE_232).sizes) == 5
