"""gunicorn's line per request (bin/start), less the password reset link's token: the link
(/admin/password_reset/<user>/<token>/) sets a staff member's password until it is used or
expires, so no one reading the log may follow it. Django sends the link on to
`.../set-password/` at once, which is what the browser shows and sends as its Referer."""

import re

from gunicorn.glogging import Logger

RESET_TOKEN = re.compile(r"(/admin/password_reset/[^/?\s]+/)(?!set-password/)[^/?\s]+")


class AccessLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "f"):  # the request line, the path, the Referer
            if isinstance(atoms.get(name), str):
                atoms[name] = RESET_TOKEN.sub(r"\1[token]", atoms[name])
        return atoms
