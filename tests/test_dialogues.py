"""The ``dialogues`` channel on real ReDial dialogues: logged recommending turns, the
nearest contexts' votes, storage beside the index, and no leakage of a scored turn's own
conversation into the log it votes with (the cross-validated evaluation)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from assistant.explain import reason_from_evidence
from eval.datasets import MENTION, load_turns, read_redial
from eval.hits import DialogueFolds, gather
from eval.systems import query_text
from retrieval.convert import convert_redial_movies
from retrieval.dialogues import (
    DIALOGUES_FILE,
    DialogueIndex,
    context_text,
    ingest_conversations,
    read_conversations,
    reencode,
)
from retrieval.errors import CatalogError
from retrieval.fakes import FakeTextEncoder
from retrieval.index import CatalogIndex
from retrieval.models import ModelHub
from retrieval.types import Candidate, ChannelHit, Query

N_DIALOGUES = 60


@pytest.fixture(scope="module")
def dialogues(shared_datasets, tmp_path_factory):
    """The first dev dialogues, as a file of their own."""
    lines = (shared_datasets / "redial" / "dev_dialogues.jsonl").read_text().splitlines()[:N_DIALOGUES]
    path = tmp_path_factory.mktemp("dialogues") / "dialogues.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def logged(dialogues):
    return read_conversations(dialogues)


@pytest.fixture(scope="module")
def log(logged):
    return DialogueIndex.build(logged, FakeTextEncoder())


def test_logged_turns_are_the_recommending_turns_with_new_targets(dialogues, logged):
    turns = read_redial(dialogues)
    expected = [t for t in turns if t.new_targets]
    assert len(logged) == len(expected) and 0 < len(logged) < len(turns)
    for got, turn in zip(logged, expected, strict=True):
        assert got.conversation == turn.dialogue
        assert got.targets == tuple(turn.new_targets)
        # the logged context is exactly what a search for that turn sends
        assert got.text == query_text(turn)
        user = [m.text for m in turn.context if m.role == "user"]
        said = " ".join(user[-1].split()) if user else ""
        if len(said) <= 120:
            assert got.request == said
        else:  # shortened at a word, marked
            assert got.request.endswith("…") and said.startswith(got.request[:-1]) and len(got.request) <= 120


def test_context_text_keeps_the_newest_messages_whole():
    messages = [f"message {i} " + "x" * 300 for i in range(10)]
    text = context_text(messages)
    assert text.endswith(messages[-1]) and len(text) <= 1000
    assert "message 3" not in text  # only the last six are read
    assert context_text(["  a ", "", "b"]) == "a b"


def test_plain_jsonl_logs_and_bad_rows(tmp_path):
    good = tmp_path / "log.jsonl"
    good.write_text(json.dumps({"context": ["any space films?", "sure, and you?", "something scary"],
                                "targets": ["m1", "m2"], "mentioned": ["m2"], "dialogue": "c1"}) + "\n"
                    + json.dumps({"context": ["hi"], "targets": ["m3"]}) + "\n")
    turns = read_conversations(good)
    assert [(t.conversation, t.targets, t.request) for t in turns] == [("c1", ("m1",), "something scary"),
                                                                       ("2", ("m3",), "hi")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"context": ["hi"], "targets": ["m3"]}) + "\n{not json\n")
    with pytest.raises(CatalogError, match=r"bad.jsonl:2"):
        read_conversations(bad)
    with pytest.raises(CatalogError, match="does not exist"):
        read_conversations(tmp_path / "missing.jsonl")
    nothing = tmp_path / "nothing.jsonl"
    nothing.write_text(json.dumps({"context": ["x"], "targets": ["m1"], "mentioned": ["m1"]}) + "\n")
    with pytest.raises(CatalogError, match="recommending anything new"):
        read_conversations(nothing)


def test_neighbours_vote_by_similarity(logged, log):
    query = logged[5].text
    vector = FakeTextEncoder().encode([query])[0]
    hits = log.find(vector, 20, neighbours=15, sharpness=2.0, conversation_weight=0.5, seeker_weight=0.25)
    assert hits
    # recomputed by hand: the 15 most similar logged contexts, each adding sim**2 to its
    # targets, half that to what its conversation suggested in other turns and a quarter
    # to what its user brought up
    sims = log.vectors @ vector
    top = np.argsort(-sims, kind="stable")[:15]
    votes: dict[str, float] = {}
    for r in top:
        for items, share in ((logged[r].targets, 1.0), (logged[r].elsewhere, 0.5), (logged[r].seeker, 0.25)):
            for item in items:
                votes[item] = votes.get(item, 0.0) + share * max(float(sims[r]), 0.0) ** 2
    # every hit carries its votes, best first, and no item left out has more
    assert len(hits) == min(20, len(votes))
    for item, score, _ in hits:
        assert score == pytest.approx(votes[item], rel=1e-5)
    assert [s for _, s, _ in hits] == sorted((s for _, s, _ in hits), reverse=True)
    left_out = [v for i, v in votes.items() if i not in {h[0] for h in hits}]
    assert not left_out or max(left_out) <= hits[-1][1] + 1e-6
    # the evidence names the voting conversations, the nearest first, and its request
    item, _, detail = hits[0]
    voters = [r for r in top if item in logged[r].targets]
    assert detail["dialogues"][0] == logged[voters[0]].conversation
    assert detail["request"] == logged[voters[0]].request
    assert detail["similarity"] == pytest.approx(float(sims[voters[0]]), abs=1e-4)
    # the context itself is in the log: its own targets get the largest single vote
    assert set(logged[5].targets) & {i for i, _, _ in hits[:5]}


def test_keep_filters_and_sharpness_zero_counts_votes(logged, log):
    vector = FakeTextEncoder().encode([logged[0].text])[0]
    everything = log.find(vector, 50, neighbours=len(log), sharpness=0.0, conversation_weight=0.0,
                          seeker_weight=0.0)
    counts: dict[str, int] = {}
    for t in logged:
        for item in t.targets:
            counts[item] = counts.get(item, 0) + 1
    # sharpness 0 over every logged turn: each vote weighs 1, the scores are plain counts
    assert {i: s for i, s, _ in everything} == {i: float(counts[i]) for i, _, _ in everything}
    assert everything[0][1] == max(counts.values())
    banned = {everything[0][0], everything[1][0]}
    kept = log.find(vector, 50, keep=lambda i: i not in banned, neighbours=len(log), sharpness=0.0,
                    conversation_weight=0.0, seeker_weight=0.0)
    assert not banned & {i for i, _, _ in kept}
    assert log.find(vector, 0) == [] and DialogueIndex([], np.zeros((0, 4)), "m").find(vector[:4], 5) == []


def test_elsewhere_lists_the_conversations_other_suggestions(logged):
    by_conversation: dict[str, list[str]] = {}
    for t in logged:
        by_conversation.setdefault(t.conversation, []).extend(t.targets)
    assert any(t.elsewhere for t in logged)
    for t in logged:
        assert set(t.elsewhere) == set(by_conversation[t.conversation]) - set(t.targets)
        assert len(set(t.elsewhere)) == len(t.elsewhere)


def test_seeker_lists_what_the_user_brought_up(dialogues, logged):
    """A logged turn's ``seeker`` items are the movies its conversation's user (not its
    recommender) brought up first, less what the recommender suggested anywhere in it."""
    turns = read_redial(dialogues)
    said: dict[str, set[str]] = {}
    by_recommender: dict[str, set[str]] = {}
    for t in turns:
        by_recommender.setdefault(t.dialogue, set()).update(t.recommended)
        by_recommender[t.dialogue].update(t.new_targets)
        said.setdefault(t.dialogue, set()).update(t.mentioned)
    assert sum(len(t.seeker) for t in logged) > len(logged)  # users name films in most conversations
    for t in logged:
        assert set(t.seeker) == said[t.conversation] - by_recommender[t.conversation]
        assert not set(t.seeker) & (set(t.targets) | set(t.elsewhere))
        assert len(set(t.seeker)) == len(t.seeker)


def test_seeker_votes_weigh_their_share_and_say_so(tmp_path):
    """An item only a neighbour's user named gets ``seeker_weight`` of that neighbour's
    vote, and its reason says people brought it up rather than were recommended it."""
    from retrieval.dialogues import logged_turn, with_elsewhere

    turns = with_elsewhere([logged_turn("c1", ["any space films?", "try this"], ["m1"], ["any space films?"]),
                            logged_turn("c2", ["something scary"], ["m3"], ["something scary"])],
                           said={"c1": ["m2", "m1"], "c2": ["m4"]})
    assert [t.seeker for t in turns] == [("m2",), ("m4",)]
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    log = DialogueIndex(turns, vectors, "m")
    hits = {i: (v, d) for i, v, d in log.find(np.array([1.0, 0.0]), 10, neighbours=1, sharpness=1.0,
                                              seeker_weight=0.4)}
    assert set(hits) == {"m1", "m2"}  # one neighbour: c1
    assert hits["m1"][0] == pytest.approx(1.0) and hits["m2"][0] == pytest.approx(0.4)
    assert hits["m1"][1]["recommended"] and not hits["m2"][1]["recommended"]
    assert "m2" not in {i for i, _, _ in log.find(np.array([1.0, 0.0]), 10, neighbours=1, seeker_weight=0.0)}
    # stored and read back; a log saved before seeker votes (four fields a turn) still loads
    log.save(tmp_path)
    assert DialogueIndex.load(tmp_path).turns == turns
    with np.load(tmp_path / DIALOGUES_FILE) as data:
        meta = json.loads(data["meta"].tobytes().decode("utf-8"))
    meta["turns"] = [row[:4] for row in meta["turns"]]
    np.savez_compressed(tmp_path / DIALOGUES_FILE, vectors=vectors,
                        meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
    assert [t.seeker for t in DialogueIndex.load(tmp_path).turns] == [(), ()]
    # the reason follows the kind of vote
    said = reason_from_evidence(Candidate(id="m2", title="Gravity", score=1.0,
                                          evidence=[ChannelHit("dialogues", 1, 0.4, hits["m2"][1])]), "", [], {})
    told = reason_from_evidence(Candidate(id="m1", title="Moon", score=1.0,
                                          evidence=[ChannelHit("dialogues", 1, 1.0, hits["m1"][1])]), "", [], {})
    assert "brought it up themselves" in said and "any space films?" in said
    assert "were recommended it" in told


def test_without_equals_a_fresh_build_on_the_rest(logged, log):
    drop = {logged[0].conversation, logged[-1].conversation}
    view = log.without(drop)
    fresh = DialogueIndex.build([t for t in logged if t.conversation not in drop], FakeTextEncoder())
    assert view.turns == fresh.turns and np.array_equal(view.vectors, fresh.vectors)
    assert not drop & view.conversations
    vector = FakeTextEncoder().encode(["a funny movie for the weekend"])[0]
    assert view.find(vector, 30) == fresh.find(vector, 30)


def test_a_turn_never_votes_with_its_own_conversation(dialogues, logged):
    """Cross-validation folds: the log a turn votes with never holds its conversation, and
    a target suggested only in that conversation cannot be found through it."""

    class FakeIndex:
        def titles(self):
            return {}

        def text_encoder(self):
            return FakeTextEncoder()

    turns = load_turns(dialogues)
    conversations = sorted({t.dialogue for t in turns})
    folds = {c: i % 3 for i, c in enumerate(conversations)}
    df = DialogueFolds("cv", FakeIndex(), dialogues, folds)
    # the conversations that can vote for an item: those suggesting it or whose user named it
    suggested_in: dict[str, set[str]] = {}
    for t in logged:
        for item in t.targets + t.seeker:
            suggested_in.setdefault(item, set()).add(t.conversation)
    checked = 0
    for turn in turns:
        log = df.for_turn(turn)
        assert turn.dialogue not in log.conversations
        assert {t.conversation for t in log.turns} == {c for c in conversations if folds[c] != folds[turn.dialogue]}
        vector = FakeTextEncoder().encode([query_text(turn)])[0]
        found = {i for i, _, d in log.find(vector, 10_000, neighbours=len(log))}
        for hit in log.find(vector, 50):
            assert turn.dialogue not in hit[2]["dialogues"]
        only_here = [x for x in turn.new_targets if suggested_in.get(x) == {turn.dialogue}]
        assert not found & set(only_here)
        checked += len(only_here)
    assert checked > 10  # the slice has targets suggested in one conversation only


def test_ingest_is_idempotent_and_follows_the_model(dialogues, tmp_path):
    encoder = FakeTextEncoder()
    first = ingest_conversations(tmp_path, dialogues, encoder, progress=False)
    assert not first.unchanged and first.encoded > 0 and (tmp_path / DIALOGUES_FILE).is_file()
    mtime = (tmp_path / DIALOGUES_FILE).stat().st_mtime_ns
    calls = encoder.calls
    again = ingest_conversations(tmp_path, dialogues, encoder, progress=False)
    assert again.unchanged and again.encoded == 0 and encoder.calls == calls
    assert (tmp_path / DIALOGUES_FILE).stat().st_mtime_ns == mtime
    loaded = DialogueIndex.load(tmp_path)
    assert loaded.turns == read_conversations(dialogues) and loaded.model_id == encoder.model_id
    # one more conversation: only its turns are encoded
    lines = dialogues.read_text().splitlines()
    shorter = tmp_path / "shorter.jsonl"
    shorter.write_text("\n".join(lines[:-1]) + "\n")
    ingest_conversations(tmp_path, shorter, encoder, progress=False)
    grown = ingest_conversations(tmp_path, dialogues, encoder, progress=False)
    assert 0 < grown.encoded <= sum(1 for t in read_conversations(dialogues)
                                    if t.conversation == read_conversations(dialogues)[-1].conversation)
    # another text model: the stored texts are encoded again
    other = FakeTextEncoder(dim=64, model_id="other-model")
    assert reencode(tmp_path, encoder) is None
    redone = reencode(tmp_path, other, progress=False)
    assert redone.encoded > 0 and DialogueIndex.load(tmp_path).model_id == "other-model"
    assert DialogueIndex.load(tmp_path).vectors.shape[1] == 64


@pytest.fixture(scope="module")
def movie_index(shared_datasets, dialogues, tmp_path_factory):
    """Every movie the slice mentions, ingested with the fake encoder and its log."""
    from retrieval.settings import Settings

    root = tmp_path_factory.mktemp("dialogue_index")
    full = root / "all.jsonl"
    convert_redial_movies(shared_datasets / "redial" / "movies_id2info.json", full)
    mentioned = set(MENTION.findall(dialogues.read_text()))
    rows = [json.loads(x) for x in full.read_text().splitlines()]
    keep = [r for r in rows if r["id"] in mentioned]
    keep += [r for r in rows if r["id"] not in mentioned][:100]
    catalog = root / "movies.jsonl"
    catalog.write_text("".join(json.dumps(r) + "\n" for r in keep))
    settings = Settings.load(env={}, data_dir=str(root / "data"), enable_clip=False, enable_captions=False,
                             enable_transcripts=False)
    hub = ModelHub(settings, overrides={"text": FakeTextEncoder()})
    index = CatalogIndex(settings, hub)
    report = index.ingest(catalog, progress=False, conversations=dialogues)
    assert "logged turns" in report.models["dialogues"]
    return CatalogIndex.open(settings, hub)


def test_search_runs_the_channel_with_the_dense_vector(movie_index, logged):
    turn = logged[3]
    hits = movie_index.channel_hits(Query(text=turn.text, exclude={turn.targets[0]}))
    assert hits["dialogues"] and turn.targets[0] not in [h[0] for h in hits["dialogues"]]
    assert all(h[0] in movie_index.table() for h in hits["dialogues"])
    # the dense channel off: the query is still encoded for this one
    movie_index.use_weights({"dense": 0.0})
    try:
        hits = movie_index.channel_hits(Query(text=turn.text))
        assert "dense" not in hits and hits["dialogues"]
        # a filter applies as to any channel
        year = movie_index.table()[hits["dialogues"][0][0]].get("year")
        if year:
            filtered = movie_index.channel_hits(Query(text=turn.text, where={"year": {"$ne": year}}))
            assert all(movie_index.table()[i].get("year") != year for i, _, _ in filtered["dialogues"])
    finally:
        movie_index.use_weights(None)
    found = movie_index.search(Query(text=turn.text, k=10))
    assert any(h.channel == "dialogues" for c in found for h in c.evidence)
    assert movie_index.stats()["channels"]["dialogues"] is True


def test_the_channel_compares_the_conversation_when_given(movie_index, logged):
    """``Query.context`` (the chat's recent messages, written as the log writes contexts)
    is what the dialogues channel compares with the log; the other channels keep the text."""
    turn = logged[3]
    by_context = movie_index.channel_hits(Query(text="something fun tonight", context=turn.text))
    by_text = movie_index.channel_hits(Query(text=turn.text))
    plain = movie_index.channel_hits(Query(text="something fun tonight"))
    assert by_context["dialogues"] == by_text["dialogues"] != plain["dialogues"]
    assert by_context["dense"] == plain["dense"] != by_text["dense"]


def test_the_chat_sends_its_conversation_as_the_context(movie_index):
    from assistant import Recommender

    queries = []
    search = movie_index.search
    movie_index.search = lambda q: (queries.append(q), search(q))[1]
    try:
        for on in (False, True):
            settings = movie_index.settings.replace(enable_llm=False, dialogue_chat_context=on)
            chat = Recommender.from_settings(settings, index=movie_index).chat()
            chat.send("I want a funny movie for tonight")
            chat.send("something older please")
            said = [m["content"] for m in chat.state.messages]
            assert len(said) == 4 and said[2] == "something older please"
            if on:
                # both roles, as said, up to the message being answered
                assert queries[-1].context == context_text(said[:3])
                # (the oldest part cut past 1,000 characters: the reply's end is kept)
                assert said[1][-300:] in queries[-1].context and queries[-1].text != queries[-1].context
            else:
                # the default: the channel searches with the request (one encoding a turn)
                assert queries[-1].context == ""
    finally:
        del movie_index.search


def test_a_log_of_another_model_is_left_out(movie_index):
    folder = movie_index.settings.index_dir
    log = DialogueIndex.load(folder)
    stale = DialogueIndex(log.turns, log.vectors, "another-model")
    stale.save(folder)
    try:
        movie_index.use_dialogues(False)  # forget the loaded one
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert movie_index.dialogue_index() is None
        assert any("another-model" in str(w.message) for w in caught)
    finally:
        log.save(folder)
        movie_index.use_dialogues(False)
    assert movie_index.dialogue_index() is not None


def test_the_reason_quotes_a_neighbour_request():
    hit = ChannelHit("dialogues", 1, 0.8, {"dialogues": ["123"], "request": "a funny one for tonight"})
    candidate = Candidate(id="1", title="Airplane!", score=1.0, evidence=[hit])
    reason = reason_from_evidence(candidate, "", [], {})
    assert reason == ("People who asked for something like this (\u201ca funny one for tonight\u201d) "
                      "were recommended it.")
    bare = Candidate(id="1", title="Airplane!", score=1.0, evidence=[ChannelHit("dialogues", 1, 0.8, {})])
    assert reason_from_evidence(bare, "", [], {}) == "People who asked for something like this were recommended it."


def test_cv_hits_come_from_the_other_folds_only(movie_index, dialogues):
    """The evaluation's gather: in each fold the channel's items are among those the other
    folds' recommenders suggested or their users named."""
    turns, hits, cf, _ = gather(movie_index, dialogues, folds=3, progress=False, cache=False)
    suggested_by_fold: dict[int, set[str]] = {}
    for t in read_conversations(dialogues):
        suggested_by_fold.setdefault(cf.folds[t.conversation], set()).update(t.targets + t.seeker)
    used = 0
    for turn, h in zip(turns, hits, strict=True):
        allowed = set().union(*(s for f, s in suggested_by_fold.items() if f != cf.fold_of(turn)))
        assert set(h.channels.get("dialogues", [])) <= allowed
        used += bool(h.channels.get("dialogues"))
    assert used > len(turns) / 2
    assert "fold" in cf.dialogue_folds.describe()


def test_index_mode_hits_are_cached_per_saved_collab_model(movie_index, dialogues):
    """``python -m eval fit`` rewrites ``collab.npz`` without touching the manifest: hits
    read in index mode (which search with it) are not served from the old model's cache;
    cross-validated ones (which fit their own) keep theirs."""
    from eval.hits import _cache_key
    from retrieval.collab import CollabModel

    def key(mode):
        return _cache_key(movie_index, dialogues, "redial", None, 0, 3, mode, [], True, None)

    before = key("index"), key("cv")
    assert key("index") == before[0]
    folder = movie_index.settings.index_dir
    ids = list(movie_index.titles())[:3]
    CollabModel.fit([(u, i, None) for u in ("a", "b") for i in ids], ids).save(folder)
    try:
        assert key("index") != before[0] and key("cv") == before[1]
    finally:
        for name in ("collab.npz", "collab.json"):
            (folder / name).unlink()
