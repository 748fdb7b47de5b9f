
from factories import login, logout, make_family, make_person, make_slot, make_tutor


def test_every_role_reaches_its_home_page(app, db, client):
    tutor = make_tutor(db)
    make_slot(db, tutor)
    parent, _ = make_family(db, "Fatima Haddou", "Adam Haddou")
    student = make_person(db, "student", "Yasmine Haddou")
    coordinator = make_person(db, "coordinator", "Nadia Benali")
    for person, heading in [(tutor, "Mes créneaux"), (parent, "Mes séances"), (student, "Mes séances"), (coordinator, "Personnes")]:
        page = login(client, person.email)
        assert page.status_code == 200
        assert f"<h1>{heading}</h1>" in page.get_data(as_text=True)
        for url in ["/slots", "/slots/new", "/sessions", "/admin/", "/children/new"]:
            assert client.get(url).status_code in (200, 403)
        logout(client)
