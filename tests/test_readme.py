"""The README's Python examples run as written (the Hub client is intercepted: no network)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from huggingface_hub import HfApi

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples():
    assert BLOCKS


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch, request):
    if "outputs/demo" in BLOCKS[index]:  # the run `mlcl-text demo` writes: a quick one here
        from mlcl_text.cli.main import main
        from tests.helpers.recipe_files import recipe

        model_dir, data_dir = (request.getfixturevalue(f) for f in ("model_dir", "data_dir"))
        run = recipe(tmp_path, model_dir, data_dir, output_dir=str(tmp_path / "outputs" / "demo"))
        assert main(["train", str(run)]) == 0
    monkeypatch.setenv("HF_TOKEN", "intercepted")  # the push runs against the fake client
    uploads = []
    monkeypatch.setattr(
        HfApi, "create_repo", lambda self, repo_id, **kwargs: uploads.append(repo_id)
    )
    monkeypatch.setattr(
        HfApi,
        "upload_folder",
        lambda self, repo_id, folder_path, **kwargs: uploads.append(
            sorted(p.name for p in Path(folder_path).iterdir())
        ),
    )
    monkeypatch.chdir(tmp_path)  # the examples write under ./outputs
    exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), {})
    if "push_to_hub(" in BLOCKS[index]:
        assert uploads[0] == "your-name/mlcl-minilm"
        assert {"README.md", "config.json", "model.safetensors"} <= set(uploads[1])
