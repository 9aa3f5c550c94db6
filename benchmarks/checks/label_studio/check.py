"""Validate loopwise's Label Studio exports with label-studio-sdk's LabelInterface (config, data keys, annotations).

label-studio-sdk pins other numpy/black versions than loopwise, so it runs in its own environment:
    python -m venv /tmp/lsvenv && /tmp/lsvenv/bin/pip install label-studio-sdk
    /tmp/lsvenv/bin/python benchmarks/checks/label_studio/check.py OUT_DIR
"""
import json
import sys
from pathlib import Path

from label_studio_sdk.label_interface import LabelInterface

out = Path(sys.argv[1])

for name in ("text", "image"):
    config = (out / f"{name}.xml").read_text()
    li = LabelInterface(config)
    li.validate()
    tasks = json.loads((out / f"{name}.json").read_text())
    n_ann = 0
    for task in tasks:
        # validate_task itself calls validate_annotation() without its argument (an SDK bug): check the parts.
        li.load_task(task)
        assert all(obj.value_name in task["data"] for obj in li.objects), (name, task["data"])
        for annotation in task["annotations"]:
            assert li.validate_annotation(annotation), (name, annotation)
            errors = li.validate_prediction({"result": annotation["result"]}, return_errors=True)
            assert errors in ([], True), (name, errors)
            n_ann += 1
    print(name, "config valid;", len(tasks), "tasks and", n_ann, "annotations valid")
