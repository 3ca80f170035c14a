# The JSON profiles of reference profiles built before 0002 moved into the summary and
# one row per column (numbers in NumPy's .npy format, as core.drift.array_bytes writes
# them); a profile with an error is "failed", the others "ready". Reversible: going back
# writes the JSON profile again from the parts. One profile in memory at a time.

import io

import numpy as np
from django.db import migrations


def _npy(values, dtype) -> bytes:
    out = io.BytesIO()
    np.save(out, np.asarray(values, dtype=dtype), allow_pickle=False)
    return out.getvalue()


def _array(data):
    return np.load(io.BytesIO(bytes(data)), allow_pickle=False)


def forwards(apps, schema_editor):
    Profile = apps.get_model("monitoring", "ReferenceProfile")
    Part = apps.get_model("monitoring", "ReferenceProfileFeature")
    for pk in Profile.objects.order_by("pk").values_list("pk", flat=True):
        row = Profile.objects.get(pk=pk)
        row.requested_at = row.built_at or row.requested_at
        data = row.profile
        if row.error or not data:
            row.status = "failed"
            row.error = row.error or "The reference profile was never built."
            row.save(update_fields=["status", "error", "requested_at"])
            continue
        summary = {
            "schema_version": data.get("schema_version"),
            "rows": data["rows"],
            "bins": data["bins"],
            "problems": dict(data.get("problems", {})),
            "features": {},
        }
        for position, (name, f) in enumerate(data["features"].items()):
            part = Part(profile_id=pk, position=position, name=name, kind=f["kind"])
            part.counts = _npy(f["counts"], np.int64)
            n = int(sum(f["counts"]))
            if f["kind"] == "numeric":
                part.values = _npy(f["values"], np.float64)
                part.missing, part.bins = f["missing"], f["bins"]
                part.approximate = bool(f.get("approximate", False))
                part.edges, part.proportions = f["edges"], f["proportions"]
                summary["features"][name] = {
                    "kind": "numeric",
                    "n": n,
                    "missing": f["missing"],
                    "distinct": len(f["values"]),
                    "approximate": part.approximate,
                }
            else:
                part.categories = f["categories"]
                counts = dict(zip(f["categories"], f["counts"], strict=True))
                part.missing = int(counts.get("(missing)", 0))
                summary["features"][name] = {
                    "kind": "categorical",
                    "n": n,
                    "missing": part.missing,
                    "distinct": len(f["categories"]),
                }
            part.save()
        row.status, row.summary = "ready", summary
        row.save(update_fields=["status", "summary", "requested_at"])


def backwards(apps, schema_editor):
    Profile = apps.get_model("monitoring", "ReferenceProfile")
    Part = apps.get_model("monitoring", "ReferenceProfileFeature")
    for pk in Profile.objects.order_by("pk").values_list("pk", flat=True):
        row = Profile.objects.get(pk=pk)
        if row.status != "ready" or not row.summary:
            row.profile = None
            row.error = row.error or "The reference profile was not built."
            row.built_at = row.built_at or row.requested_at
            row.save(update_fields=["profile", "error", "built_at"])
            continue
        features = {}
        for part in Part.objects.filter(profile_id=pk).order_by("position"):
            counts = _array(part.counts).tolist()
            if part.kind == "numeric":
                features[part.name] = {
                    "kind": "numeric",
                    "values": _array(part.values).tolist(),
                    "counts": counts,
                    "missing": part.missing,
                    "bins": part.bins,
                    "edges": part.edges,
                    "proportions": part.proportions,
                    "approximate": part.approximate,
                }
            else:
                features[part.name] = {
                    "kind": "categorical",
                    "categories": part.categories,
                    "counts": counts,
                }
        s = row.summary
        row.profile = {
            "schema_version": s["schema_version"],
            "rows": s["rows"],
            "bins": s["bins"],
            "features": features,
            "problems": s.get("problems", {}),
        }
        row.built_at = row.built_at or row.requested_at
        row.save(update_fields=["profile", "built_at"])
        Part.objects.filter(profile_id=pk).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_reference_profile_parts"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
