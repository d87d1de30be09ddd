"""Shared test set-up: one torch thread (small tensors run fastest on one, and two test
workers on two cores would otherwise oversubscribe the CPU), and no test may leave a
changed default dtype behind for the next one."""
import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    old = torch.get_default_dtype()
    yield
    torch.set_default_dtype(old)
