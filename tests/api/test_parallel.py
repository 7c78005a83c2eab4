"""The presets, mesh and sharding tests live in test_presets.py and test_mesh.py now.

test_memory.py imports its request helpers from here; they are tests/api/helpers.py's.
"""

from __future__ import annotations

from tests.api.helpers import error_detail as _error
from tests.api.helpers import get_json as _get

__all__ = ["_error", "_get"]
