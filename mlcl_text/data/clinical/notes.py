"""The discharge notes of each admission, collected row by row and joined into one text.

An admission's text is its report followed by its addenda (the order each loader gives),
joined by a blank line; :func:`clean_text` is the optional CAML cleaning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from mlcl_text.data.clinical.tables import BadRows, parse_id
from mlcl_text.data.registry import DataError

__all__ = ["AdmissionNotes", "clean_text"]

_WORD = re.compile(r"\w+")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass
class AdmissionNotes:
    """The discharge notes of each admission, kept until they are joined."""

    subjects: dict[int, int] = field(default_factory=dict)
    parts: dict[int, list[tuple[tuple, str]]] = field(default_factory=dict)

    def add(self, hadm_id: int, subject_id: int, order: tuple, text: str) -> None:
        """One note; ``order`` sorts an admission's notes (report first, then addenda)."""
        known = self.subjects.setdefault(hadm_id, subject_id)
        if known != subject_id:
            raise DataError(
                f"admission {hadm_id} belongs to patients {known} and {subject_id} in the notes"
            )
        self.parts.setdefault(hadm_id, []).append((order, text))

    def texts(self, clean: bool) -> dict[int, str]:
        """Each admission's notes in order, joined by a blank line (cleaned if ``clean``)."""
        out = {}
        for hadm_id, parts in self.parts.items():
            text = "\n\n".join(text for _, text in sorted(parts, key=lambda p: p[0]))
            out[hadm_id] = clean_text(text) if clean else text
        return out

    def add_row(
        self,
        bad: BadRows,
        where: str,
        row: Mapping[str, str],
        columns: tuple[str, str, str],
        order: tuple,
    ) -> None:
        """One note row as read; ``columns`` names its admission, patient and text columns.
        A bad row goes to ``bad`` (reported by column name, never with its text)."""
        hadm_column, subject_column, text_column = columns
        hadm_id = parse_id(row[hadm_column], where, hadm_column, bad)
        subject_id = parse_id(row[subject_column], where, subject_column, bad)
        if hadm_id is None or subject_id is None:
            return
        text = row[text_column].strip()
        if not text:
            bad.add(where, f"{text_column} is empty")
            return
        self.add(hadm_id, subject_id, order, text)


def clean_text(text: str) -> str:
    """The text cleaning of the CAML line of work (Mullenbach et al., NAACL 2018).

    Word tokens (``\\w+``) are lower-cased and tokens without a letter (numbers, de-
    identification underscores) are dropped: ``"Pt [**Name**] 65 y/o, BP 120/80"`` →
    ``"pt name y o bp"``.
    """
    return " ".join(t.lower() for t in _WORD.findall(text) if _LETTER.search(t))
