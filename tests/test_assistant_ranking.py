"""Label ranking over many candidates: A-Z then a-z in one pass, chunks beyond 52."""

from __future__ import annotations

import pytest

from assistant.llm.fake import ScriptedLLM
from assistant.llm_tasks import LABELS, rank
from assistant.state import SessionState
from tests.tiny_llm import FakeIndex, movie_rows


@pytest.fixture
def movies(shared_datasets):
    index = FakeIndex(movie_rows(shared_datasets, 70))
    return list(index.get(list(index.titles())).values())


def test_labels_are_52_distinct_single_characters():
    assert len(LABELS) == 52 == len(set(LABELS)) and all(len(lab) == 1 for lab in LABELS)


def test_up_to_52_candidates_take_one_forward_pass(movies):
    llm = ScriptedLLM(prefer=[movies[40].title])
    state = SessionState(messages=[{"role": "user", "content": "a drama"}])
    ranked = rank(llm, state, {}, movies[:52])
    assert len(llm.calls) == 1 and llm.calls[0]["labels"][-1] == "z"
    assert ranked[0][0].id == movies[40].id
    assert sorted(c.id for c, _ in ranked) == sorted(c.id for c in movies[:52])
    assert sum(p for _, p in ranked) == pytest.approx(1.0)


def test_more_than_52_are_scored_in_comparable_chunks(movies):
    llm = ScriptedLLM(prefer=[movies[60].title])
    ranked = rank(llm, SessionState(), {}, movies[:70])
    assert [len(c["labels"]) for c in llm.calls] == [52, 18]
    assert ranked[0][0].id == movies[60].id  # the favourite of the second chunk wins overall
    assert len({c.id for c, _ in ranked}) == 70


class _FixedLLM:
    """Label probabilities given by position: the LLM under test is only its scores."""

    def __init__(self, probs):
        self.probs = probs

    def score_labels(self, messages, labels):
        return dict(zip(labels, self.probs, strict=False))


def test_llm_scores_are_mixed_with_the_retrieval_order(movies):
    cands = movies[:5]
    ids = [c.id for c in cands]
    unsure = _FixedLLM([0.18, 0.19, 0.2, 0.21, 0.22])  # a slight, diffuse preference for the last
    # the LLM alone reverses the order; mixed half and half, retrieval keeps its order
    assert [c.id for c, _ in rank(unsure, SessionState(), {}, cands, mix=0.0)] == ids[::-1]
    mixed = rank(unsure, SessionState(), {}, cands, mix=0.5, rrf_k=0)
    assert [c.id for c, _ in mixed] == ids and sum(p for _, p in mixed) == pytest.approx(1.0)
    # a confident LLM still overrides retrieval
    sure = _FixedLLM([0.01, 0.01, 0.01, 0.01, 0.96])
    assert rank(sure, SessionState(), {}, cands, mix=0.5, rrf_k=0)[0][0].id == ids[-1]
    # mix 1: the retrieval order whatever the LLM says
    assert [c.id for c, _ in rank(sure, SessionState(), {}, cands, mix=1.0)] == ids


def test_rank_mix_is_a_validated_setting():
    from retrieval.errors import SettingsError
    from retrieval.settings import Settings

    assert Settings.load(env={"CHATREC_LLM_RANK_MIX": "0.2"}).llm_rank_mix == 0.2
    with pytest.raises(SettingsError, match="llm_rank_mix"):
        Settings.load(env={}, llm_rank_mix=1.5)
