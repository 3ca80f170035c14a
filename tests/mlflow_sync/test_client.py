"""The MLflow REST client's pure parts (no server): what it refuses to read and how it
names a model's framework."""

import pytest

from mlflow_sync.client import MLflowClient, MLflowError, mlmodel_flavors


def test_only_the_servers_artifact_proxy_is_read():
    assert MLflowClient.proxied_path("mlflow-artifacts:/1/models/m-1/artifacts") == (
        "1/models/m-1/artifacts"
    )
    for uri in ("s3://bucket/1/models/m-1", "file:///srv/mlruns/1", "runs:/abc/model"):
        with pytest.raises(MLflowError, match="only mlflow-artifacts"):
            MLflowClient.proxied_path(uri)


def test_the_flavors_of_an_mlmodel_file_python_function_last():
    text = (
        "artifact_path: model\nflavors:\n  python_function:\n    loader_module: x\n"
        "  sklearn:\n    pickled_model: model.pkl\n    sklearn_version: 1.5.0\n"
        "model_uuid: abc\nsignature:\n  inputs: '[]'\n"
    )
    assert mlmodel_flavors(text) == ["sklearn", "python_function"]
    assert mlmodel_flavors("artifact_path: model\n") == []
