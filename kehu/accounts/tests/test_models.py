from kehu.accounts.roles import Role
from tests.fixtures.people import make_user


def test_only_administrators_reach_the_back_office(db):
    admin = make_user("boss", Role.ADMIN)
    sales = make_user("seller", Role.SALES)
    assert (admin.is_staff, admin.has_perm("customers.change_tag")) == (True, True)
    assert (sales.is_staff, sales.has_perm("customers.change_tag")) == (False, False)


def test_admin_pages_refuse_other_roles(client, db):
    make_user("seller", Role.SALES)
    client.login(username="seller", password="kehu-test-password")
    response = client.get("/admin/customers/tag/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
