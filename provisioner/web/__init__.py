"""The agents' and installers' web app (HTML in Spanish) and the JSON API, served by the
same aiohttp process as the phone configs.

    app.py         login, CSRF, bearer tokens, rendering, form reading; installs the middleware
    errors.py      the one middleware: every error -> a Spanish page, or JSON under /api/
    tickets.py     the queue (live, live.py), ticket pages and actions, new tickets
    installers.py  extension imports and the device list
    api.py         /api/v1/, its bodies checked against the OpenAPI document
    openapi.py     the OpenAPI 3.1 document (pure data; tests/test_openapi.py holds the app to it)
    sessions.py    login sessions and API tokens in the database
    portal*.py     the customers' portal under /portal/ (its own sessions: portal_session.py;
                   the way in: portal_entry.py; cases: portal.py); requester_invites.py, the staff's side
"""
