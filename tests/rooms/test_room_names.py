import base64
import re

from rooms import new_room_name


def test_room_names_do_not_repeat_over_many_draws():
    names = [new_room_name() for _ in range(10_000)]
    assert len(set(names)) == len(names)


def test_room_names_use_only_lowercase_base32_so_jitsi_keeps_them_as_they_are():
    for _ in range(200):
        name = new_room_name()
        assert re.fullmatch(r"[a-z2-7]+", name), name
        assert name == name.lower()


def test_a_room_name_carries_at_least_128_bits_of_randomness():
    name = new_room_name()
    assert len(name) >= 26
    # 32 base32 characters without padding decode back to the 20 random bytes.
    assert len(base64.b32decode(name.upper())) * 8 >= 128
