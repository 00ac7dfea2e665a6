"""One background thread that runs calls in order, so that writing a batch overlaps computing the next.

Writing ``functions.parquet`` (text column, Parquet encoding and
compression) and accumulating its aggregates are single-threaded and
release the GIL for most of their time, while the measure kernels use every
core; running them on a thread of their own lets the two overlap.  Only
serial code runs on the thread: the parallel Numba kernels stay on the
caller's.
"""

from concurrent.futures import ThreadPoolExecutor

__all__ = ["InOrder"]


class InOrder:
    """Run calls on one background thread, in the order submitted, at most ``ahead`` waiting.

    Use it as a context manager: leaving the block waits for every call
    submitted, and re-raises the first error one of them raised.

    Parameters
    ----------
    name : str
        The thread's name.
    ahead : int
        Calls that may be queued or running before :meth:`submit` waits for
        the oldest (each holds its arguments in memory until it is done).
    """

    def __init__(self, name, ahead=1):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._ahead = int(ahead)
        self._pending = []

    def submit(self, call, *args):
        """Queue ``call(*args)``, first waiting for the oldest call while ``ahead`` are pending."""
        while len(self._pending) >= self._ahead:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(call, *args))

    def wait(self):
        """Wait for every call submitted; re-raise the first error one of them raised."""
        pending, self._pending = self._pending, []
        errors = [future.exception() for future in pending]
        for error in errors:
            if error is not None:
                raise error

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        try:
            if kind is None:
                self.wait()
            else:  # the block failed: let the calls in flight finish, keeping the block's error
                for future in self._pending:
                    future.exception()
                self._pending = []
        finally:
            self._pool.shutdown(wait=True)
        return False
