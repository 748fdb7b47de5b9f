"""The centre's people through their service: finding a family on the phone, the tutors, what a tutor teaches."""

from datetime import UTC, datetime

import pytest
from factories import look_again, make_family, make_person, make_tutor

from scheduler_app.models import TutorProfile, User
from scheduler_app.services.people import (
    FAMILIES_SHOWN,
    TutorProfileChange,
    find_families,
    find_tutor,
    tutor_names,
    tutors,
    update_tutor_profile,
)


@pytest.fixture
def two_families(db):
    haddou, [adam] = make_family(db, "Fatima Haddou", "Adam Haddou")
    haddou.phone = "+33612345678"
    petit, [lea] = make_family(db, "Jean Petit", "Léa Petit")
    petit.phone = "+33799887766"
    db.commit()
    return haddou, petit


@pytest.mark.parametrize("search", ["haddou", "FATIMA", "Adam", "06 12 34", "0612345678", "+33 6 12 34 56"])
def test_a_family_is_found_by_a_parents_or_a_childs_name_or_digits_of_the_phone(db, two_families, search):
    haddou, _petit = two_families
    assert [parent.id for parent in find_families(db, search)] == [haddou.id]


def test_too_few_digits_do_not_search_the_phone_numbers(db, two_families):
    assert find_families(db, "345") == []  # in Fatima's number, but three digits would match most numbers


def test_without_a_search_every_parent_is_listed_by_name_with_their_children(db, two_families):
    haddou, petit = two_families
    make_person(db, "student", "Yasmine Amrani", email=None)  # a student alone: not a family
    make_tutor(db)
    found = find_families(db)
    assert [parent.id for parent in found] == [haddou.id, petit.id]
    assert [child.name for child in found[0].children] == ["Adam Haddou"]


def test_the_family_list_stops_at_its_length(db):
    db.add_all(User(name=f"Parent {n:03d}", role="parent") for n in range(FAMILIES_SHOWN + 1))
    db.commit()
    found = find_families(db, "parent")
    assert len(found) == FAMILIES_SHOWN and found[0].name == "Parent 000"


def test_the_tutors_are_listed_by_name_with_what_they_teach(db, two_families):
    karim = make_tutor(db, "Karim Haddad", subjects=("maths",))
    claire = make_tutor(db, "Claire Martin", subjects=("francais",))
    listed = tutors(db)
    assert [tutor.id for tutor in listed] == [claire.id, karim.id]
    assert listed[1].tutor_profile.subjects == ",maths,"
    assert [(row.id, row.name) for row in tutor_names(db)] == [(claire.id, "Claire Martin"), (karim.id, "Karim Haddad")]


def test_only_a_tutor_whose_account_is_kept_is_found_to_be_edited(db, two_families):
    karim = make_tutor(db)
    gone = make_tutor(db, "Claire Martin", deleted_at=datetime(2027, 1, 1, tzinfo=UTC))
    haddou, _petit = two_families
    assert find_tutor(db, karim.id) is karim
    assert find_tutor(db, gone.id) is None
    assert find_tutor(db, haddou.id) is None
    assert find_tutor(db, 999999) is None


def test_a_coordinator_sets_what_a_tutor_teaches_and_takes_them_off_the_list(db):
    karim = make_tutor(db, subjects=("maths",), languages=("fr",))
    update_tutor_profile(db, karim, TutorProfileChange(subjects=["maths", "francais"], levels=["lycee"],
                                                       languages=["fr", "ar"], bio="  Ingénieur ", active=False))
    look_again(db)
    profile = db.get(TutorProfile, karim.id)
    assert (profile.subjects, profile.levels, profile.languages, profile.bio) == (
        ",maths,francais,", ",lycee,", ",fr,ar,", "Ingénieur")
    assert db.get(User, karim.id).active is False


def test_a_tutor_without_a_profile_gets_one_and_speaks_french_if_no_language_is_given(db):
    claire = make_person(db, "tutor", "Claire Martin")
    update_tutor_profile(db, claire, TutorProfileChange(subjects=["anglais"]))
    look_again(db)
    profile = db.get(TutorProfile, claire.id)
    assert (profile.subjects, profile.levels, profile.languages, profile.bio) == (",anglais,", ",", ",fr,", "")
    assert db.get(User, claire.id).active is True
