"""The ranking benchmark's pieces (the benchmark itself is run by ``python -m eval bench ranking``)."""

from __future__ import annotations

import pytest

from eval.bench.ranking import parse_label_list, ranking_turns


def test_parse_label_list_counts_unknown_entries():
    labels = list("ABCDE")
    assert parse_label_list("C, A, B", labels) == (["C", "A", "B"], 0)
    assert parse_label_list("C, Z, A, The Matrix, C", labels) == (["C", "A"], 3)
    assert parse_label_list("1. D\n2. E.", labels) == (["D", "E"], 2)


def test_turns_hold_the_target_among_distinct_candidates(shared_datasets):
    turns = ranking_turns(shared_datasets, 3, 20, seed=0)
    assert len(turns) == 3
    for state, cands, target in turns:
        ids = [c.id for c in cands]
        assert len(ids) == 20 == len(set(ids)) and target in ids
        assert state.messages and all(m["role"] in ("user", "assistant") for m in state.messages)
        assert "@" not in " ".join(m["content"] for m in state.messages if "@1" in m["content"])
    # seeded: the same candidates every time
    assert [c.id for c in ranking_turns(shared_datasets, 1, 20, seed=0)[0][1]] == [c.id for c in turns[0][1]]


@pytest.mark.model
@pytest.mark.slow
def test_benchmark_runs_end_to_end_with_the_tiny_model(shared_datasets, capsys):
    import argparse

    from eval.bench.ranking import add_arguments, run

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    result = run(parser.parse_args(["--turns", "2", "--candidates", "8", "--device", "cpu",
                                    "--datasets", str(shared_datasets)]))
    assert result["turns"] == 2 and result["candidates"] == 8
    assert result["score_labels_s_per_turn"] > 0 and result["generate_s_per_turn"] > 0
    assert result["generate_over_score_ratio"] == pytest.approx(
        result["generate_s_per_turn"] / result["score_labels_s_per_turn"], rel=0.05)
    assert 0 < result["mrr_score_labels"] <= 1
    assert "unknown items in generated lists" in capsys.readouterr().out
