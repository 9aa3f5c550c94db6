"""Write loopwise's Label Studio exports (a text and an image project) to a folder, for check.py to validate.

Run with loopwise's environment: python benchmarks/checks/label_studio/make.py OUT_DIR
"""
import io
import sys
import tempfile
import zipfile
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image
from loopwise.server import create_app

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)

d = tempfile.mkdtemp()
app = create_app(db=f"sqlite:///{d}/x.db", admin_password="x" * 12, learn=False, import_dir=d)
c = TestClient(app)
h = {"X-CSRF-Token": c.post("/api/login", json={"name": "admin", "password": "x" * 12}).json()["csrf_token"]}
t = c.post("/api/projects", json={"name": "t", "task": "text", "label_names": ["pos", "neg"], "labels_per_record": 2}, headers=h).json()
c.post(f"/api/projects/{t['id']}/import/upload", files={"file": ("r.csv", b"id,text,label,split\na,good,,\nb,bad,,\nc,fine,pos,test\n")}, headers=h).raise_for_status()
i = c.post("/api/projects", json={"name": "i", "task": "image", "label_names": ["cat", "dog"]}, headers=h).json()
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as zf:
    for n in range(2):
        b = io.BytesIO(); Image.new("RGB", (5 + n, 4)).save(b, "PNG"); zf.writestr(f"{n}.png", b.getvalue())
c.post(f"/api/projects/{i['id']}/import/upload", files={"file": ("i.zip", buf.getvalue())}, headers=h).raise_for_status()
for p, value in ((t["id"], "pos"), (i["id"], "cat")):
    rec = c.post(f"/api/projects/{p}/queue/next", headers=h).json()["record"]
    c.post(f"/api/projects/{p}/records/{rec['id']}/label", json={"value": value}, headers=h).raise_for_status()
for name, p in (("text", t["id"]), ("image", i["id"])):
    (out / f"{name}.json").write_text(c.get(f"/api/projects/{p}/export?format=labelstudio").text)
    (out / f"{name}.xml").write_text(c.get(f"/api/projects/{p}/export?format=labelstudio_config").text)
print(f"written to {out}")
