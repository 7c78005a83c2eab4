"""Response model of `GET /api/v1/formats/{name}/block`: one block of a block format.

Apart from app.schemas.numerics because it reuses the quantization lab's block model, whose
module imports numerics' `Real`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.core.numerics.block_format import BlockQuery
from app.schemas.numerics import BlockFormatModel
from app.schemas.quantize import BlockModel
from app.schemas.query import query_model

BlockParams = query_model(BlockQuery)


class BlockTensorModel(BaseModel):
    source: Literal["generated", "given"] = Field(
        description="generated from distribution and seed, or the values given.",
        examples=["generated"],
    )
    n: int = Field(description="Values in the tensor.", examples=[256])
    block_count: int = Field(description="Blocks in it.", examples=[8])
    amax: float = Field(description="Largest finite |x| of the tensor.", examples=[2.71])
    global_scale: float | None = Field(
        description="NVFP4's FP32 tensor scale, amax / (6 · 448) (null for MX).",
        examples=[None],
    )


class BlockViewResponse(BaseModel):
    query: BlockParams = Field(description="Every parameter used, defaults filled in.")  # type: ignore[valid-type]
    format: BlockFormatModel = Field(description="The block format.")
    tensor: BlockTensorModel = Field(description="The tensor the block is part of.")
    block: BlockModel = Field(
        description="The block: its scale (code, bits, value), element codes, values, errors."
    )
    scale_steps: list[str] = Field(
        description="How the block's scale follows from its amax, in its own numbers.",
        examples=[["amax = 2.71", "floor(log2 amax) = 1", "scale = 2^-1 = 0.5"]],
    )
