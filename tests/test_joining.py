"""Joining works for every family: who leads the room, what coordinators are told about it,
and what the messages promise about when links open."""

import pytest

from factories import login, make_person


@pytest.mark.parametrize(("settings", "says", "not_said"), [
    ({"JITSI_APP_ID": None, "JITSI_APP_SECRET": None}, "Personne ne peut être modérateur des salles.",
     "Le tuteur ou le médiateur est modérateur"),
    ({}, "Le tuteur n'est pas sûr d'être modérateur.", "Personne ne peut"),
    ({"JITSI_MODERATOR_FROM_TOKEN": True}, "Le tuteur ou le médiateur est modérateur de sa salle",
     "pas sûr d'être modérateur"),
])
def test_the_coordinators_page_says_who_can_lead_the_rooms(app, client, db, settings, says, not_said):
    app.config.update(settings)
    login(client, make_person(db, "coordinator", "Nadia Benali").email)
    html = client.get("/admin/sessions").get_data(as_text=True).replace("&#39;", "'")
    assert says in html and not_said not in html
    if "pas sûr" in says:
        assert "Le lien du tuteur s'ouvre 15 minutes avant l'heure, celui des familles 5 minutes avant" in html
