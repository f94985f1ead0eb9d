"""Each metric against hand-computed cases."""

import math

import pytest

from eval import metrics as m


def test_rank_recall_ndcg_mrr_by_hand():
    ranked = ["a", "b", "c", "d"]
    assert m.rank_of(ranked, "c") == 3
    assert m.rank_of(ranked, "z") is None
    assert m.recall_at(3, 1) == 0.0 and m.recall_at(3, 3) == 1.0 and m.recall_at(None, 50) == 0.0
    assert m.ndcg_at(1, 10) == 1.0
    assert m.ndcg_at(3, 10) == pytest.approx(0.5)  # 1 / log2(4)
    assert m.ndcg_at(11, 10) == 0.0 and m.ndcg_at(None, 10) == 0.0
    assert m.mrr_at(4) == 0.25 and m.mrr_at(4, k=3) == 0.0 and m.mrr_at(None) == 0.0


def test_ranking_metrics_aggregate():
    out = m.ranking_metrics([1, 5, None, 60], n_boot=200)
    assert out["targets"] == 4
    assert out["recall@1"]["mean"] == 0.25
    assert out["recall@10"]["mean"] == 0.5
    assert out["recall@50"]["mean"] == 0.5
    assert out["ndcg@10"] == pytest.approx((1 + 1 / math.log2(6)) / 4)
    assert out["mrr"] == pytest.approx((1 + 0.2 + 0 + 1 / 60) / 4)
    # sample sd of [1,1,0,0] is sqrt(1/3); se = that / 2
    assert out["recall@10"]["se"] == pytest.approx(math.sqrt(1 / 3) / 2)
    lo, hi = out["recall@10"]["ci95"]
    assert 0.0 <= lo <= 0.5 <= hi <= 1.0


def test_list_metrics_by_hand():
    assert m.share_outside([["a", "x"], ["b"]], {"a", "b"}) == pytest.approx(1 / 3)
    assert m.share_outside([], {"a"}) == 0.0
    assert m.share_repeated([["a", "b"], ["c", "d"]], [["a"], []]) == 0.25
    assert m.top_item_share([["a", "b"], ["a", "c"]]) == 0.5


def test_gini_by_hand():
    assert m.gini([1, 1, 1, 1]) == 0.0
    assert m.gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert m.gini([1, 3]) == pytest.approx(0.25)
    assert m.gini([]) == 0.0
    # catalog items never recommended count as zeros
    assert m.recommendation_gini([["a"], ["a"]], catalog=["a", "b"]) == pytest.approx(0.5)
    assert m.recommendation_gini([["a"], ["a"]]) == 0.0


def test_percentile_and_standard_error():
    assert m.percentile([4, 1, 3, 2], 50) == 2.5
    assert m.percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert math.isnan(m.percentile([], 50))
    assert m.standard_error([0, 1, 0, 1]) == pytest.approx(math.sqrt(1 / 12))
    assert m.standard_error([1]) == 0.0


def test_bootstrap_ci_constant_and_grouped():
    assert m.bootstrap_ci([1.0] * 10) == (1.0, 1.0)
    # 10 conversations of 5 identical targets: resampling conversations (the honest unit)
    # must give a wider interval than pretending the 50 targets are independent
    values = [float(g % 2) for g in range(10) for _ in range(5)]
    groups = [str(g) for g in range(10) for _ in range(5)]
    lo_g, hi_g = m.bootstrap_ci(values, groups, n_boot=2000, seed=1)
    lo_i, hi_i = m.bootstrap_ci(values, n_boot=2000, seed=1)
    assert lo_g <= 0.5 <= hi_g
    assert (hi_g - lo_g) > (hi_i - lo_i) * 1.5
    assert m.bootstrap_ci(values, groups, n_boot=300, seed=3) == m.bootstrap_ci(values, groups, n_boot=300, seed=3)
