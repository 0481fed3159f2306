"""Long-lived processes (web workers, run_worker, Celery workers) freeze what they loaded.

Django, the apps and their modules are hundreds of thousands of objects that live as long as
the process. The garbage collector's full collections walked all of them again every few
webhooks or runs (py-spy and perf: ~5% of a web worker's CPU); frozen, they are skipped.
"""

import gc


def freeze_loaded_objects() -> None:
    """Collect what is garbage now, then move every surviving object out of the collector's
    reach. Objects made later are collected as usual."""
    gc.collect()
    gc.freeze()
