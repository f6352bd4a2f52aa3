from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.http import AuthenticatedHttpRequest
from institutions import selectors


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Where sign-in lands: staff go to their institutions, learners to their wallet."""
    if selectors.memberships_for_user(user=request.user).exists():
        return redirect("institutions:staff_home")
    return redirect("learners:wallet")


@dataclass(frozen=True)
class GuidePage:
    slug: str
    title: Promise


# The guide in reading order, the learner's pages then staff's; each page is
# templates/guide/<slug>.html.
GUIDE = [
    GuidePage("what-is-a-micro-credential", _("What is a micro-credential?")),
    GuidePage("micro-credentials-and-degrees", _("Micro-credentials and degrees")),
    GuidePage("reading-a-micro-credential", _("How to read one")),
    GuidePage("stacking", _("Stacking toward a qualification")),
    GuidePage("your-wallet", _("What your wallet counts")),
    GuidePage("recognition", _("Getting it recognised")),
    GuidePage("sharing-with-employers", _("Sharing with employers")),
    GuidePage("verification", _("How verification protects you")),
    GuidePage("faq", _("Questions and answers")),
    # For institutions' staff: the editor, checking and publishing.
    GuidePage("describing-a-micro-credential", _("For staff: describing a micro-credential")),
]


def guide(request: HttpRequest, slug: str = GUIDE[0].slug) -> HttpResponse:
    if slug not in {page.slug for page in GUIDE}:
        raise Http404
    return render(request, f"guide/{slug}.html", {"guide_pages": GUIDE, "current": slug})
