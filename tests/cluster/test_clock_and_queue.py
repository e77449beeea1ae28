"""The simulated clock's timer order and the controllers' work queue order (both kept per instant /
as a FIFO for speed): what runs first must stay what the design says."""

from kubelab.cluster.clock import SimClock
from kubelab.cluster.controllers.base import WorkQueue


def drain(clock: SimClock, until: float) -> list[str]:
    ran = []
    while (timer := clock.pop_due(until)) is not None:
        timer.fn()
        ran.append(timer.fn.__name__ if hasattr(timer.fn, "__name__") else "?")
    return ran


def test_timers_run_by_time_then_by_creation_even_when_added_while_running():
    clock = SimClock(start=100.0)
    order: list[str] = []

    def note(name: str):
        def fn() -> None:
            order.append(name)
            if name == "b":  # added while its instant runs: after everything already due then
                clock.call_at(101.0, note("b-later"))
                clock.call_at(100.5, note("earlier-than-now"))
        return fn

    clock.call_at(102.0, note("c"))
    clock.call_at(101.0, note("a"))
    clock.call_at(101.0, note("b"))
    clock.call_at(101.0, note("b2"))
    cancelled = clock.call_at(101.0, note("never"))
    cancelled.cancel()
    assert clock.pending() == 4
    drain(clock, 101.0)
    assert order == ["a", "b", "earlier-than-now", "b2", "b-later"]
    assert clock.first_due() == 102.0
    drain(clock, 200.0)
    assert order[-1] == "c" and clock.first_due() is None and clock.pending() == 0


def test_next_due_skips_cancelled_and_background_timers_when_asked():
    clock = SimClock(start=0.0)
    clock.call_at(5.0, lambda: None, background=True)
    gone = clock.call_at(3.0, lambda: None)
    clock.call_at(9.0, lambda: None)
    gone.cancel()
    assert clock.next_due() == 5.0
    assert clock.next_due(include_background=False) == 9.0
    assert clock.first_due() == 5.0


def test_work_queue_is_a_fifo_that_keeps_a_key_once_until_it_is_popped():
    queue = WorkQueue()
    for key in [("ns", "a"), ("ns", "b"), ("ns", "a"), ("ns", "c")]:
        queue.add(key)
    assert len(queue) == 3
    assert queue.pop() == ("ns", "a")
    queue.add(("ns", "b"))  # still queued: keeps its place
    queue.add(("ns", "a"))  # popped already: queued again, at the end
    assert [queue.pop() for _ in range(len(queue))] == [("ns", "b"), ("ns", "c"), ("ns", "a")]
    assert not queue
