def test_menu_shows_only_what_the_role_may_use_and_groups_system_pages(world, client_for):
    staff_html = client_for(world.people.staff).get("/geo/map/").content.decode()
    admin_html = client_for(world.people.admin).get("/geo/map/").content.decode()
    assert "/audit/" not in staff_html and "/geo/import/" not in staff_html
    assert "/audit/" in admin_html and "/geo/import/" in admin_html
    menus = [chunk.split("</details>")[0] for chunk in admin_html.split("<summary")[1:]]
    system_menu = next(menu for menu in menus if "系统" in menu.split("</summary>")[0])
    assert "系统" in system_menu and "/audit/" in system_menu and "/accounts/tokens/" in system_menu
