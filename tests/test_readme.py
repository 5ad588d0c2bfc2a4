"""Every Python block of README.md runs as written.

What is tested is the calls a reader copies, not the model quality, so each
block runs in a temporary folder with training cut to two steps of one epoch,
Glows shrunk to one step of 8 hidden channels per level, and `compile` without
XLA (`jit_compile="auto"` would build and time both train steps; the choice
itself is tested in tests/keras/test_jit_compile_choice.py).
"""

import pathlib
import re

import pytest

import tfnf

README = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"^```python\n(.*?)^```", README, re.S | re.M)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_readme_block_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    glow, fit, compile_ = tfnf.flows.glow, tfnf.FlowModel.fit, tfnf.FlowModel.compile

    def small_glow(*args, **kwargs):
        return glow(*args, **{**kwargs, "num_steps": 1, "hidden_channels": 8})

    def short_fit(self, *args, **kwargs):
        kwargs.update(epochs=1, steps_per_epoch=2, verbose=0)
        if kwargs.get("validation_data") is not None:
            kwargs["validation_steps"] = 1
        return fit(self, *args, **kwargs)

    def compile_without_xla(self, *args, **kwargs):
        kwargs["jit_compile"] = False
        return compile_(self, *args, **kwargs)

    monkeypatch.setattr(tfnf.flows, "glow", small_glow)
    monkeypatch.setattr(tfnf.FlowModel, "compile", compile_without_xla)
    monkeypatch.setattr(tfnf.FlowModel, "fit", short_fit)
    exec(compile(BLOCKS[index], f"README.md python block {index + 1}", "exec"), {"__name__": "readme"})
