"""Names matched the way people type them, and parameters declared once."""

from __future__ import annotations

import pytest

from app.core.errors import UnknownName
from app.core.names import Registry, closest, fold

SCHEDULES = Registry("schedule", ["gpipe", "1f1b", "interleaved_1f1b", "zb_h1", "zb_h2"])


@pytest.mark.parametrize("typed", ["zb_h1", "ZB-H1", "zb-h1", "Zb H1", "zbh1", " ZB.H1 "])
def test_typed_spellings_resolve(typed: str) -> None:
    assert SCHEDULES.resolve(typed) == "zb_h1"


def test_aliases_resolve_and_must_name_a_member() -> None:
    formats = Registry("format", ["bfloat16", "float8_e4m3fn"], {"bf16": "bfloat16"})
    assert formats.resolve("BF16") == "bfloat16"
    with pytest.raises(ValueError, match="names no format"):
        Registry("format", ["bfloat16"], {"fp8": "float8_e4m3fn"})


def test_names_that_fold_alike_are_refused() -> None:
    with pytest.raises(ValueError, match="fold alike"):
        Registry("model", ["llama3-8b", "llama3_8b"])


def test_a_miss_lists_the_valid_names_and_suggests_one() -> None:
    with pytest.raises(UnknownName) as err:
        SCHEDULES.resolve("zb_h3", field="schedule")
    assert err.value.field == "schedule"
    assert err.value.valid == sorted(SCHEDULES.names)
    assert err.value.suggestion in {"zb_h1", "zb_h2"}
    assert "did you mean" in str(err.value)
    with pytest.raises(UnknownName) as far:
        SCHEDULES.resolve("completely different")
    assert far.value.suggestion is None


def test_closest_parameter_names() -> None:
    assert fold("Llama3-70B") == "llama370b"
    assert closest("stage", ["stages", "schedule", "microbatches"]) == "stages"
    assert closest("round", ["rounding", "overflow", "seed", "value"]) == "rounding"
    assert closest("sp", ["sequence_parallel", "seq_len", "tp", "pp"]) == "sequence_parallel"
    assert closest("zzz", ["tp", "pp"]) is None
