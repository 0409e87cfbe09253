"""Plain torch ECG models and their registry.

Every model takes ``n_leads``, ``n_times`` and ``n_outputs``; ``forward(x)`` maps
``(B, n_leads, n_times)`` to logits ``(B, n_outputs)``, ``forward_features(x)`` to embeddings
``(B, model.n_features)``, the head is ``model.head`` and ``model.reset_head(n)`` swaps it.
Build models by name with :func:`build_model`; :func:`list_models` lists the names.
This package never imports skorch, scikit-learn or pandas (tested in tests/test_imports.py).

Examples
--------
>>> import torch
>>> from ecgsk.nn import build_model, list_models
>>> "deepecg-ssl" in list_models()
True
>>> model = build_model("deepecg-sl-tiny", n_leads=12, n_times=1000, n_outputs=5)
>>> model(torch.zeros(2, 12, 1000)).shape
torch.Size([2, 5])
"""

from __future__ import annotations

from . import efficientnet, fastcnn, heads, transformer, xresnet
from ._base import ECGModule, count_parameters
from ._registry import (
    ModelSpec,
    build_model,
    list_models,
    model_info,
    register_model,
    unregister_model,
)
from .efficientnet import DeepECGSL, EfficientNetV2_1d, StageSpec
from .fastcnn import CompactCNN
from .heads import AttentionPooling, LinearHead, MeanPooling, MLPHead
from .transformer import ECGTransformer
from .xresnet import XResNet1d

__all__ = [
    "AttentionPooling",
    "CompactCNN",
    "DeepECGSL",
    "ECGModule",
    "ECGTransformer",
    "EfficientNetV2_1d",
    "LinearHead",
    "MLPHead",
    "MeanPooling",
    "ModelSpec",
    "StageSpec",
    "XResNet1d",
    "build_model",
    "count_parameters",
    "efficientnet",
    "fastcnn",
    "heads",
    "list_models",
    "model_info",
    "register_model",
    "transformer",
    "unregister_model",
    "xresnet",
]
