"""Run a worker function in several spawned processes, failing the test if they hang."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

import pytest
import torch.multiprocessing as mp


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spawn_workers(worker: Callable, args: tuple, nprocs: int, timeout_s: float, what: str) -> None:
    """``worker(rank, *args)`` in ``nprocs`` spawned processes; fails the test after ``timeout_s``."""
    context = mp.start_processes(worker, args=args, nprocs=nprocs, join=False, start_method="spawn")
    deadline = time.monotonic() + timeout_s
    while not context.join(timeout=1.0):
        if time.monotonic() > deadline:
            for process in context.processes:
                if process.is_alive():
                    process.kill()
            for process in context.processes:
                process.join(timeout=5.0)
            pytest.fail(
                f"the {nprocs} {what} did not finish within {timeout_s:.0f} s (a collective probably hangs)"
            )


def join_as_rank(rank: int, port: int, world_size: int) -> None:
    """Set the environment through which the Trainer (accelerate's ``PartialState``) builds the
    gloo process group for this spawned worker, on one thread over the loopback device."""
    import torch

    os.environ.update(
        {
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
            "WORLD_SIZE": str(world_size),
            "LOCAL_WORLD_SIZE": str(world_size),
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "OMP_NUM_THREADS": "1",
            "GLOO_SOCKET_IFNAME": "lo",
        }
    )
    torch.set_num_threads(1)
