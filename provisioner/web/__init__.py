"""The agents' and installers' web app (HTML in Spanish) and the JSON API, served by the
same aiohttp process as the phone configs."""
