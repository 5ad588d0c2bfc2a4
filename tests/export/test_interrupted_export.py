"""A process killed while exporting leaves the previous export intact and loadable."""

import textwrap

import numpy as np
import pytest
import tensorflow as tf

import tfnf
from tests.killed_process import child_process, sigkill, wait_for_file

EXPORTER = textwrap.dedent(
    """
    import os, sys, time
    import keras
    import numpy as np
    import tfnf
    import tfnf.files.safe_write as safe_write

    target, marker, x_path = sys.argv[1], sys.argv[2], sys.argv[3]
    keras.utils.set_random_seed(0)
    x = np.load(x_path)
    model = tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,)))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), jit_compile=False)  # XLA is not the subject
    model.fit(x, batch_size=64, epochs=1, verbose=0)
    model.export(target)
    np.save(marker + ".old.npy", model.log_prob(x[:8]).numpy())
    model.fit(x, batch_size=64, epochs=3, verbose=0)  # the next export differs

    moving = safe_write.move_into_place

    def stall_before_the_swap(staging, filepath, retired, overwrite):
        open(marker, "w").close()  # the new export is fully written; the swap comes next
        time.sleep(600)  # the test kills the process here
        moving(staging, filepath, retired, overwrite)

    safe_write.move_into_place = stall_before_the_swap
    model.export(target)
    """
)


@pytest.mark.slow
def test_kill_during_export_keeps_the_old_export(tmp_path):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((256, 2)) * [1.0, 0.3]).astype("float32")
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "exporter.py").write_text(EXPORTER)
    target, marker = tmp_path / "models" / "toy" / "1", tmp_path / "stalled"
    with child_process([tmp_path / "exporter.py", target, marker, tmp_path / "x.npy"]) as process:
        wait_for_file(process, marker)
        staged = [p for p in target.parent.iterdir() if p.name.startswith(".tfnf-export-")]
        assert len(staged) == 1 and (staged[0] / "saved_model.pb").is_file()  # the new export was complete
        sigkill(process)
    loaded = tf.saved_model.load(str(target))
    old = np.load(str(marker) + ".old.npy")
    np.testing.assert_allclose(loaded.signatures["log_prob"](x=tf.constant(x[:8]))["log_prob"].numpy(), old, rtol=1e-5, atol=1e-5)
    # the kill released the export's lock: the next export into the folder removes what it left
    tfnf.FlowModel(tfnf.flows.realnvp((2,), num_couplings=2, hidden_units=(8,))).export(str(target.parent / "2"), verbose=False)
    assert sorted(p.name for p in target.parent.iterdir()) == ["1", "2"]
