"""`tfnf train` on TFDS datasets: offline it ends with one line saying how to get the data;
with data present (mock data) it trains."""

import json

import pytest
import tensorflow_datasets as tfds

from tfnf.cli.main import main


def test_offline_mnist_is_one_line_pointing_at_download(tmp_path, capsys):
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("tfnf train: error: TFDS dataset 'mnist' is not in ")
    assert "rerun with --download" in err and str(tmp_path) in err


def test_a_failed_download_is_one_line(tmp_path, capsys, monkeypatch):
    def offline(self, *args, **kwargs):
        raise ConnectionError("Max retries exceeded with url: /cvdf-datasets/mnist/train-images-idx3-ubyte.gz")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", offline)
    assert main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--download", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("tfnf train: error: TFDS dataset 'mnist' could not be downloaded into ")
    assert "Max retries exceeded" in err and "check the network connection" in err


@pytest.mark.slow
def test_train_on_mock_mnist(tmp_path):
    out = tmp_path / "run"
    tiny = ["--levels", "1", "--steps", "1", "--hidden", "8", "--epochs", "1", "--quiet", "--temperatures", "1"]
    with tfds.testing.mock_data(num_examples=40):
        assert main(["train", "--dataset", "mnist", "--num-bits", "3", "--data-dir", str(tmp_path), "--out", str(out), *tiny]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["dataset"] == "mnist" and metrics["num_bins"] == 8
    assert metrics["flow_config"]["config"]["event_shape"] == [28, 28, 1]
