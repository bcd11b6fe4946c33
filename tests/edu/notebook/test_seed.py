"""The personal seed: drawn once per folder, kept, refused when the file is damaged."""

import pytest

from edu.notebook import SEED_FILE, personal_seed


def test_a_folder_keeps_its_seed_and_another_folder_draws_its_own(tmp_path):
    first, second = tmp_path / "alice", tmp_path / "bob"
    first.mkdir()
    second.mkdir()
    seed = personal_seed(first)
    assert 0 <= seed < 2**31
    assert personal_seed(first) == seed == int((first / SEED_FILE).read_text())
    seeds = {
        personal_seed(folder)
        for folder in [second, *(tmp_path / str(i) for i in range(8))]
        if folder.mkdir(exist_ok=True) or True
    }
    assert len(seeds | {seed}) == 10  # 2^31 values: ten folders do not collide


@pytest.mark.parametrize("text", ["", "abc", "-3", str(2**31)])
def test_a_damaged_seed_file_is_refused_with_what_to_do(tmp_path, text):
    (tmp_path / SEED_FILE).write_text(text)
    with pytest.raises(ValueError, match="delete it to draw anew"):
        personal_seed(tmp_path)
