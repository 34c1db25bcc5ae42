"""HTTP hardening (issue 8): the Content-Security-Policy on every response.

Django's SecurityMiddleware sends HSTS, nosniff, Referrer-Policy and
Cross-Origin-Opener-Policy (settings.py); XFrameOptionsMiddleware sends X-Frame-Options.
This middleware adds the CSP, which Django 5.2 does not have. Scripts come only from this
site's static files: no inline ``<script>`` block, no ``on*=`` attribute, no ``eval``
(tests/security/test_headers.py keeps them out of the templates). Styles too come only from
files: the few computed widths (bars, progress) are set from site.js through the CSSOM,
which the policy allows, never with a ``style=""`` attribute.

Two per-response adjustments, both driven by what the view already says:

- a view that lets this site frame it (``@xframe_options_sameorigin``, the material
  preview) gets ``frame-ancestors 'self'`` instead of ``'none'``;
- a PDF gets ``object-src 'self'``: Chromium's PDF viewer is a plugin that
  ``object-src 'none'`` would block.

The django-ninja API docs (/api/docs) need no exception: django-ninja 1.7 renders Swagger
UI from static files (swagger-ui-bundle.js, swagger-ui-init.js) and passes its settings in
a ``<script type="application/json">`` block, which is data, not script.
"""

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def policy(**overrides: str) -> str:
    directives = {**DIRECTIVES, **overrides}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class SecurityHeadersMiddleware:
    """Adds Content-Security-Policy to every response that does not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" in response.headers:
            return response
        overrides = {}
        if response.headers.get("X-Frame-Options", "").upper() == "SAMEORIGIN":
            overrides["frame-ancestors"] = "'self'"
        if response.headers.get("Content-Type", "").startswith("application/pdf"):
            overrides["object-src"] = "'self'"
        response.headers["Content-Security-Policy"] = policy(**overrides)
        return response
