"""``Citation``: the paper a loss implements, as the loss class's ``citation`` attribute.

Model cards cite the losses a model was trained with from these attributes
(:func:`mlcl_text.export.model_card.render_model_card`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Citation:
    """A paper reference.

    Attributes:
        short: author and year, e.g. ``"Khosla et al. 2020"`` (the card's head table).
        reference: authors, title and venue on one line (the card's citation list).
        arxiv: the arXiv identifier, where the paper has one.
        bibtex: a BibTeX entry, where the venue is known.
    """

    short: str
    reference: str
    arxiv: str | None = None
    bibtex: str | None = None
