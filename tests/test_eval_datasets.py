"""Dataset adapters on the real files: exact counts, the protocol's details, errors."""

import json

import pytest

from eval.datasets import load_turns, read_grocery, read_jsonl, read_redial, redial_dialogues
from retrieval.errors import CatalogError


@pytest.fixture(scope="module")
def redial_turns(shared_datasets):
    return read_redial(shared_datasets / "redial" / "dev_dialogues.jsonl")


def test_redial_dev_counts(redial_turns):
    # every recommender message that mentions a movie; each distinct movie it names
    assert len(redial_turns) == 3120
    assert sum(len(t.targets) for t in redial_turns) == 3577
    assert sum(len(t.new_targets) for t in redial_turns) == 3231
    assert len({t.dialogue for t in redial_turns}) == 898  # 3 of 901 have no such message


def test_redial_first_turns_follow_the_protocol(redial_turns):
    first = redial_turns[0]
    assert first.id == "6712:5" and first.targets == ["191911"] and first.mentioned == []
    assert [m.role for m in first.context] == ["user", "assistant", "user", "user", "assistant"]
    second = redial_turns[1]  # "or @199451 ?" after "have you seen @191911 ?"
    assert second.targets == ["199451"] and second.mentioned == ["191911"]
    # @id in the context is replaced by the title from movieMentions
    assert second.context[-3].text == "have you seen Man on Wire (2008) ?"
    assert not any("@" in m.text for t in redial_turns[:50] for m in t.context if "@1" in m.text)
    repeat = redial_turns[2]  # "@89034 was pretty good" : already said? no; 199451 was
    assert repeat.targets == ["89034"] and set(repeat.mentioned) == {"191911", "199451"}


def test_redial_dialogues_as_log(shared_datasets):
    dialogues = redial_dialogues(shared_datasets / "redial" / "dev_dialogues.jsonl")
    assert len(dialogues) == 901
    assert dialogues[0] == ("6712", ["191911", "199451", "89034", "142710", "204883"])


def test_limit_keeps_conversations_and_is_seeded(shared_datasets):
    path = shared_datasets / "redial" / "dev_dialogues.jsonl"
    a = load_turns(path, limit=40, seed=3)
    b = load_turns(path, limit=40, seed=3)
    c = load_turns(path, limit=40, seed=4)
    assert len(a) == 40 and [t.id for t in a] == [t.id for t in b] != [t.id for t in c]
    # whole dialogues in order, at most the last one cut
    full = {}
    for t in load_turns(path):
        full.setdefault(t.dialogue, []).append(t.id)
    dialogues = list(dict.fromkeys(t.dialogue for t in a))
    for d in dialogues[:-1]:
        assert [t.id for t in a if t.dialogue == d] == full[d]
    assert [t.dialogue for t in a] == sorted((t.dialogue for t in a), key=dialogues.index)


def test_grocery_photos(shared_datasets):
    turns = read_grocery(shared_datasets / "grocery" / "val.txt")
    assert len(turns) == 296
    assert turns[0].targets == ["Golden-Delicious"] and turns[0].context == []
    assert all(t.image and t.image.endswith(".jpg") for t in turns)
    from pathlib import Path
    assert Path(turns[0].image).is_file()
    assert len({t.targets[0] for t in turns}) > 40
    assert load_turns(shared_datasets / "grocery" / "val.txt", limit=10, seed=0)[0].image


def test_plain_jsonl(tmp_path):
    path = tmp_path / "log.jsonl"
    rows = [{"context": ["I loved Alien", "Try Aliens?", "something scarier"], "targets": ["m2"],
             "mentioned": ["m1"]},
            {"id": "x", "context": [{"role": "user", "text": "a red apple"}], "targets": ["a1", "a2"],
             "image": "photo.jpg"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    turns = load_turns(path)
    assert [m.role for m in turns[0].context] == ["user", "assistant", "user"]
    assert turns[0].new_targets == ["m2"] and turns[1].id == "x"
    assert turns[1].image == str(tmp_path / "photo.jpg")
    path.write_text('{"context": []}\n')
    with pytest.raises(CatalogError, match="log.jsonl:1"):
        read_jsonl(path)
    with pytest.raises(CatalogError, match="does not exist"):
        load_turns(tmp_path / "none.jsonl")
