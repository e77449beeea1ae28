"""Generated name suffixes (generateName, token volume names) come from the injected generator: the
same characters, drawn the same way, whatever path names.random_suffix takes for it."""

from __future__ import annotations

import random

from kubelab.api.names import SAFE_ALPHABET, generate_name, random_suffix


class Chooser(random.Random):
    """A Random subclass: random_suffix must fall back to its own choice()."""


def test_suffix_is_what_choice_gives_and_leaves_the_generator_where_choice_would():
    for seed in range(300):
        fast, reference = random.Random(seed), random.Random(seed)
        for length in (5, 1, 12, 0):
            expected = "".join(reference.choice(SAFE_ALPHABET) for _ in range(length))
            assert random_suffix(fast, length) == expected
        assert fast.getstate() == reference.getstate()


def test_a_generator_subclass_takes_its_own_choice():
    class Fixed(random.Random):
        def choice(self, seq):
            return seq[0]
    assert random_suffix(Fixed(1)) == SAFE_ALPHABET[0] * 5
    assert random_suffix(Chooser(7)) == random_suffix(random.Random(7))


def test_generated_names_are_cut_to_58_characters_before_the_suffix():
    name = generate_name("x" * 80, random.Random(3))
    assert len(name) == 63 and name.startswith("x" * 58) and all(c in SAFE_ALPHABET for c in name[58:])
