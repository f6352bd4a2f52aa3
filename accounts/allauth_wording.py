"""allauth's own strings that MESHE's pages or e-mails can still show, listed so that they enter
MESHE's catalogue.

allauth's German says "du"; Django reads the project's catalogue (LOCALE_PATHS) before an app's,
so these msgids, translated in locale/ with "Sie", win over allauth's. The pages MESHE uses most
have their own templates and msgids (templates/account/); these are the ones left: form and
adapter errors, and the second-factor and institutional-login pages. Nothing imports this list.
"""

from django.utils.translation import gettext_noop

ALLAUTH_MSGIDS = (
    gettext_noop("Be patient, you are sending too many requests."),  # account/adapter.py
    gettext_noop("You must type the same password each time."),  # account/forms.py
    gettext_noop("You must type the same email each time."),  # account/forms.py
    gettext_noop(
        "An account already exists with this email address. Please sign in to that account first, then connect your %s account."
    ),  # socialaccount/adapter.py
    gettext_noop("Your account has no password set up."),  # socialaccount/adapter.py
    gettext_noop("Your account has no verified email address."),  # socialaccount/adapter.py
    gettext_noop("Verify Your Email Address"),  # templates/account/verification_sent.html
    gettext_noop(
        "This part of the site requires us to verify that\nyou are who you claim to be. For this purpose, we require that you\nverify ownership of your email address. "
    ),  # templates/account/verified_email_required.html
    gettext_noop(
        "We have sent an email to you for\nverification. Please click on the link inside that email. If you do not see the verification email in your main inbox, check your spam folder. Otherwise\ncontact us if you do not receive it within a few minutes."
    ),  # templates/account/verified_email_required.html
    gettext_noop(
        '<strong>Note:</strong> you can still <a href="%(email_url)s">change your email address</a>.'
    ),  # templates/account/verified_email_required.html
    gettext_noop(
        "You are about to generate a new set of recovery codes for your account."
    ),  # templates/mfa/recovery_codes/generate.html
    gettext_noop(
        "You are about to deactivate authenticator app based authentication. Are you sure?"
    ),  # templates/mfa/totp/deactivate_form.html
    gettext_noop(
        "You are about to connect a new third-party account from %(provider)s."
    ),  # templates/socialaccount/login.html
    gettext_noop(
        "You are about to sign in using a third-party account from %(provider)s."
    ),  # templates/socialaccount/login.html
    gettext_noop(
        'You decided to cancel logging in to our site using one of your existing accounts. If this was a mistake, please proceed to <a href="%(login_url)s">sign in</a>.'
    ),  # templates/socialaccount/login_cancelled.html
    gettext_noop(
        "You are about to use your %(provider_name)s account to login to\n%(site_name)s. As a final step, please complete the following form:"
    ),  # templates/socialaccount/signup.html
)
