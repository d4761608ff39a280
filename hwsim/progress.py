"""Progress display for long work: tqdm when installed, else plain lines.

tqdm is an optional extra (``pip install 'hwsim[progress]'``); without it the fallback prints
one line per :meth:`note` (e.g. per epoch) on stderr, so logs stay readable.
"""

import sys
import time


class _Plain:
    """Fallback: a line per note, with the count done and the time so far."""

    def __init__(self, total, label, enabled):
        self.total, self.label, self.enabled = total, label, enabled
        self.done = 0
        self.t0 = time.perf_counter()

    def update(self, n=1, **postfix):
        self.done += n

    def note(self, summary=""):
        if self.enabled:
            seconds = time.perf_counter() - self.t0
            print(f"{self.label}: {self.done}/{self.total} in {seconds:.1f} s  {summary}",
                  file=sys.stderr, flush=True)

    def close(self):
        pass


class _Tqdm:
    def __init__(self, tqdm, total, label):
        self.bar = tqdm(total=total, desc=label, leave=True, file=sys.stderr,
                        dynamic_ncols=True)

    def update(self, n=1, **postfix):
        if postfix:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in postfix.items()}, refresh=False)
        self.bar.update(n)

    def note(self, summary=""):
        if summary:
            self.bar.set_postfix_str(summary, refresh=True)

    def close(self):
        self.bar.close()


class progress_bar:
    """Context manager: ``with progress_bar(total, label) as bar: bar.update(1, loss=x)``.

    ``bar.note(summary)`` shows a summary (e.g. an epoch's metrics) on the bar, or prints it
    as a line without tqdm.
    ``enabled=False`` shows nothing.
    """

    def __init__(self, total, label, enabled=True):
        self._bar = _Plain(total, label, enabled)
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                tqdm = None
            if tqdm is not None:
                self._bar = _Tqdm(tqdm, total, label)

    def __enter__(self):
        return self._bar

    def __exit__(self, *exc):
        self._bar.close()
        return False
