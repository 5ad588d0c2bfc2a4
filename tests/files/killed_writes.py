"""What a write killed with SIGKILL leaves beside its target, made by hand (no process needs to die)."""

import json
import os

from tfnf.files.write_claims import WriteClaim


def leave_a_killed_claim(target, retire_target=False, pid=1):
    """The leftovers of a write to `target` killed mid-way: an unlocked lock record (recording `pid`,
    1 by default: a process id that always runs in a container), a half-written staging folder and,
    with `retire_target`, the previous `target` moved aside. Returns the `WriteClaim` naming them."""
    claim = WriteClaim(os.fspath(target), folder=True)
    record = {"target": os.path.basename(claim.target), "staging": os.path.basename(claim.staging),
              "retired": os.path.basename(claim.retired), "pid": pid}
    with open(claim.lock_path, "w") as handle:
        json.dump(record, handle)
    os.makedirs(claim.staging)
    with open(os.path.join(claim.staging, "saved_model.pb"), "wb") as handle:
        handle.write(b"half written")
    if retire_target:
        os.rename(claim.target, claim.retired)
    return claim
