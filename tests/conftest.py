"""Shared test set-up: one torch thread (small tensors run fastest on one, and two test
workers on two cores would otherwise oversubscribe the CPU), and no test may leave a
changed default dtype behind for the next one."""
import threading

import pytest
import torch
from tqdm.std import tqdm

torch.set_num_threads(1)
# No tqdm monitor thread and a lock of this process only: the monitor takes tqdm's multiprocessing lock every
# 10 s, and a forked worker killed meanwhile (mutmut's timeout) left it taken, hanging every later worker's
# progress bar (seen in a mutmut run: the hung mutants were counted as killed by timeout).
tqdm.monitor_interval = 0
tqdm.set_lock(threading.RLock())


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    old = torch.get_default_dtype()
    yield
    torch.set_default_dtype(old)
