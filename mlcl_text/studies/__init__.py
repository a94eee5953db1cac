"""Studies: baselines, sweeps over recipes, sizes and seeds, and their comparison tables.

* :mod:`~mlcl_text.studies.baselines`: TF-IDF, frozen encoder and SetFit baselines, written
  as run folders;
* :mod:`~mlcl_text.studies.sweep`: recipes × training-set sizes × seeds (``mlcl-text sweep``);
* :mod:`~mlcl_text.studies.compare`: tables and figures over run folders and over data sets
  (``mlcl-text compare``).
"""
