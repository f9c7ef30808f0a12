"""The queue runtime, the only home of rq: jobs, embedded Redis, worker, scheduler, ``flask up``."""
