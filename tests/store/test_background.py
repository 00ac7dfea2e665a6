"""The background thread that writes a batch while the next one is computed: order, back-pressure, errors."""

import threading
import time

import pytest

from pysimbias.store.background import InOrder


def test_calls_run_in_order_on_another_thread_with_at_most_ahead_pending():
    done, threads, most_pending = [], set(), []

    def slow(i):
        time.sleep(0.002 * (i % 3))
        threads.add(threading.get_ident())
        done.append(i)

    with InOrder("test", ahead=2) as background:
        for i in range(20):
            background.submit(slow, i)
            most_pending.append(i + 1 - len(done))
    assert done == list(range(20))
    assert threads and threading.get_ident() not in threads
    assert max(most_pending) <= 2


def test_an_error_in_a_call_reaches_the_caller_and_later_calls_still_finish():
    done = []

    def call(i):
        if i == 3:
            raise ValueError("call 3 failed")
        done.append(i)

    with pytest.raises(ValueError, match="call 3 failed"):
        with InOrder("test", ahead=8) as background:
            for i in range(6):
                background.submit(call, i)
    assert done == [0, 1, 2, 4, 5]


def test_an_error_in_the_block_waits_for_the_calls_in_flight_and_is_kept():
    done = []

    with pytest.raises(KeyError):
        with InOrder("test", ahead=4) as background:
            background.submit(lambda: (time.sleep(0.05), done.append("written")))
            raise KeyError("the caller failed")
    assert done == ["written"]
