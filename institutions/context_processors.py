from django.http import HttpRequest

from institutions import selectors


def navigation(request: HttpRequest) -> dict[str, object]:
    """Tells the layout whether the visitor works for an institution, lazily."""

    def staff_memberships() -> list[object]:
        return list(selectors.memberships_for_user(user=request.user))  # type: ignore[arg-type]

    return {"staff_memberships": staff_memberships}
