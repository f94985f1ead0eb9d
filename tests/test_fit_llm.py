"""llm_rank_mix learned from logged turns: a model that knows the answers is trusted, one
that does not is weighted down to the retrieval order; cross-validated per fold; saved per
model beside fusion.json and used by the assistant."""

from __future__ import annotations

import json

import pytest

from assistant import Recommender, ScriptedLLM
from assistant.rank_mix import MIX_FILE, load_mix, save_mix
from eval.datasets import Message, Turn
from eval.fit_llm import MIX_GRID, ScoredTurn, figures, fit_mix, ranked_ids
from tests.tiny_llm import FakeIndex, grocery_rows


def _turns(n: int, llm: str, seed: int = 0) -> list[ScoredTurn]:
    """``n`` turns of 10 candidates whose target retrieval ranked 7th; the LLM's
    probabilities ``llm``: "oracle" (sure of the target), "adversary" (sure of others)."""
    import random

    rng = random.Random(seed)
    out = []
    for i in range(n):
        ids = [f"t{i}-c{j}" for j in range(10)]
        target = ids[6]
        if llm == "oracle":
            p = [0.9 if c == target else 0.1 / 9 for c in ids]
        else:
            weights = [0.0 if c == target else rng.random() for c in ids]
            p = [w / sum(weights) for w in weights]
        turn = Turn(id=f"d{i}:1", dialogue=f"d{i}", context=[Message("user", "hi")], targets=[target],
                    mentioned=[])
        out.append(ScoredTurn(turn, ids, p))
    return out


def test_a_model_that_knows_the_answers_is_trusted_and_one_that_does_not_is_not():
    oracle = _turns(20, "oracle")
    folds = {s.turn.dialogue: i % 5 for i, s in enumerate(oracle)}
    fit = fit_mix(oracle, folds, rrf_k=60)
    # any mix up to 0.9 puts the target first; ties go to the larger mix (less trust)
    assert fit.mix == 0.9 and set(fit.fold_mix.values()) == {0.9}
    assert fit.grid[0.9] == pytest.approx(1.0) and fit.grid[1.0] < 0.5
    assert figures(oracle, lambda s: ranked_ids(s, fit.mix, 60))["recall@1"] == 1.0

    adversary = _turns(20, "adversary")
    fit = fit_mix(adversary, {s.turn.dialogue: i % 5 for i, s in enumerate(adversary)}, rrf_k=60)
    assert fit.mix == 1.0  # weighted down to the retrieval order by the evidence
    assert figures(adversary, lambda s: ranked_ids(s, 1.0, 60))["recall@10"] == 1.0
    assert set(fit.grid) == set(MIX_GRID)


def test_each_fold_is_scored_with_the_mix_of_the_other_folds():
    # folds 0-3: an oracle; fold 4: an adversary. Fold 4's mix comes from the oracle folds
    turns = _turns(16, "oracle") + _turns(4, "adversary", seed=3)
    for i, s in enumerate(turns[16:]):
        s.turn = Turn(id=f"x{i}:1", dialogue=f"x{i}", context=s.turn.context, targets=s.turn.targets, mentioned=[])
    folds = {s.turn.dialogue: (4 if s.turn.dialogue.startswith("x") else i % 4) for i, s in enumerate(turns)}
    fit = fit_mix(turns, folds, rrf_k=60)
    assert fit.fold_mix[4] == 0.9  # chosen without seeing fold 4
    with pytest.raises(ValueError, match="unknown objective"):
        fit_mix(turns, folds, 60, objective="accuracy")


def test_the_assistant_uses_the_mix_fitted_for_its_model(settings, shared_datasets):
    rows = grocery_rows(shared_datasets, 20)
    index = FakeIndex(rows)
    s = settings.replace(candidate_count=12, top_k=3)
    retrieval = Recommender.from_settings(s.replace(enable_llm=False), index=index).chat().send("fruit")

    def reply_for(llm):
        rec = Recommender.from_settings(s, index=index, llm=llm)
        return rec, rec.chat().send("fruit")

    llm = ScriptedLLM({}, prefer=["Mango"], model_id="some-model")
    rec, reply = reply_for(llm)
    assert rec.llm_rank_mix() == s.llm_rank_mix == 0.5 and reply.items[0].title.startswith("Mango")
    # fitted for this model: 1.0, the evidence said the model's order does not help
    path = save_mix(s.index_dir, "some-model", 1.0, {"turns": 80})
    save_mix(s.index_dir, "another-model", 0.2, {"turns": 10})
    assert path.name == MIX_FILE and set(json.loads(path.read_text())["models"]) == {"some-model", "another-model"}
    rec, reply = reply_for(ScriptedLLM({}, prefer=["Mango"], model_id="some-model"))
    assert rec.llm_rank_mix() == 1.0
    assert [r.id for r in reply.items] == [r.id for r in retrieval.items]
    # another model does not inherit it
    rec, _ = reply_for(ScriptedLLM({}, prefer=["Mango"], model_id="a-third-model"))
    assert rec.llm_rank_mix() == 0.5
    assert load_mix(s.index_dir, "another-model") == 0.2 and load_mix(s.index_dir, "nobody") is None
    (s.index_dir / MIX_FILE).write_text("{ damaged")
    assert load_mix(s.index_dir, "some-model") is None
    with pytest.raises(ValueError):
        save_mix(s.index_dir, "x", 1.5, {})
