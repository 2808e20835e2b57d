"""What the logs say of people: staff by username and id, the text someone typed that may be
a secret (a password typed in the username box, a stranger's mail address) only as a keyed
digest, which tells one attempt's text from another's without saying what it was."""

import logging

from django.utils.crypto import salted_hmac


def staff(user):
    """A staff user as the log names them: by username, which people read, and by id, which
    does not change."""
    return f"{user.get_username()}#{user.pk}"


def digest(text):
    """Eight characters that are the same for the same text, keyed by SECRET_KEY so that no
    one holding the log alone can try guesses against it."""
    return salted_hmac("registry.logs.digest", text).hexdigest()[:8]


class RequestUserFilter(logging.Filter):
    """Adds the signed-in user's id to the lines Django logs of a request (a server error, a
    refused permission, a failed CSRF check), which name its path only; and keeps a refusal
    (4xx) to its one line, without the traceback of the exception that said no.

    Only a user the request already looked up (every back-office page does): looking one up
    here would query the database, perhaps the very fault being logged."""

    def filter(self, record):
        request = getattr(record, "request", None)
        user = getattr(request, "_cached_user", None)
        if getattr(user, "is_authenticated", False):
            record.msg = f"{record.msg} (user #{user.pk})"
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = record.exc_text = None
        return True
