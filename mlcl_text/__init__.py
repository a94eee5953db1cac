"""mlcl-text: multi-label and hierarchical text classification with supervised contrastive learning.

``Classifier.from_pretrained(run_folder).predict(texts)`` labels texts with a trained model.
Importing the package registers ``model_type="mlcl"`` with ``AutoConfig`` and ``AutoModel``.
"""

from transformers import AutoConfig, AutoModel

from mlcl_text.classifier import Classifier
from mlcl_text.hierarchy import LabelTree
from mlcl_text.modeling.configuration import MLCLConfig
from mlcl_text.modeling.model import MLCLModel, MLCLOutput

AutoConfig.register(MLCLConfig.model_type, MLCLConfig, exist_ok=True)
AutoModel.register(MLCLConfig, MLCLModel, exist_ok=True)

__version__ = "0.1.0.dev0"

__all__ = ["Classifier", "LabelTree", "MLCLConfig", "MLCLModel", "MLCLOutput", "__version__"]
