"""Shared test set-up: one torch thread (small tensors run fastest on one, and two test
workers on two cores would otherwise oversubscribe the CPU)."""
import torch

torch.set_num_threads(1)
