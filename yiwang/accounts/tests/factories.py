import factory

from yiwang.accounts.models import Department, Membership, User
from yiwang.accounts.roles import Role

PASSWORD = "Correct-horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save()


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = factory.Sequence(lambda n: f"测试部门{n}")


def member(username: str, area, role: str, department=None, **extra) -> User:
    user = UserFactory(username=username, **extra)
    Membership.objects.create(user=user, area=area, role=role, department=department)
    return user


def build_people(tree: dict) -> dict:
    """One user per role, placed in the test tree (see geography.tests.factories.build_tree).

    `outsider` is staff of community B, a sibling of A: whatever belongs to community A must be
    invisible to them.
    """
    dept = DepartmentFactory(name="城管局", area=tree["district"])
    people = {
        "department": dept,
        "admin": member("admin", tree["district"], Role.ADMIN),
        "dispatcher_district": member("ddy_qu", tree["district"], Role.DISPATCHER),
        "dispatcher_sub": member("ddy_jd1", tree["sub1"], Role.DISPATCHER),
        "dispatcher_comm": member("ddy_a", tree["comm_a"], Role.DISPATCHER),
        "staff": member("staff_a", tree["comm_a"], Role.STAFF),
        "outsider": member("staff_b", tree["comm_b"], Role.STAFF),
        "grid_worker": member("wg_a1", tree["grid_a1"], Role.GRID_WORKER),
        "handler": member("handler", tree["district"], Role.HANDLER, department=dept),
        "resident": member("resident_a", tree["comm_a"], Role.RESIDENT),
        "volunteer": member("volunteer_a", tree["comm_a"], Role.VOLUNTEER),
        "nobody": UserFactory(username="nobody"),
    }
    return people
