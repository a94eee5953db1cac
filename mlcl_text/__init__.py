"""mlcl-text: multi-label and hierarchical text classification with supervised contrastive learning."""

from mlcl_text.hierarchy import LabelTree

__version__ = "0.1.0.dev0"

__all__ = ["LabelTree", "__version__"]
