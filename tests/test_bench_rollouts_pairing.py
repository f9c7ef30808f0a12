"""The rollout bench compares the early gates with the realised gate world by world."""

from bench.rollouts import paired


def run(action: str, day: float, percent: float = 5) -> dict:
    """Return one simulated run's ending, as ``simulation.run_rollout`` gives it."""
    return {"action": action, "day": day, "percent": percent}


def test_days_earlier_counts_only_worlds_where_both_rolled_back():
    detail = {
        "with_early_gates": [
            run("rollback", 10),
            run("rollback", 20),
            run("rollback", 30),
            run("still running", 365, 1),
        ],
        "realised_only": [
            run("rollback", 14),
            run("complete", 50),
            run("complete", 36),
            run("still running", 365, 1),
        ],
    }
    found = paired(detail)
    assert found["both_rolled_back"] == 1
    assert found["days_earlier_median"] == 4
    assert found["promoted_by_realised_only"] == 2
    assert found["days_before_that_promotion_median"] == 18
    assert found["stuck_percent"] == [1]


def test_no_rollback_on_both_sides_reports_no_days():
    detail = {
        "with_early_gates": [run("complete", 9)],
        "realised_only": [run("complete", 9)],
    }
    found = paired(detail)
    assert found["days_earlier_median"] is None
    assert found["days_before_that_promotion_median"] is None
