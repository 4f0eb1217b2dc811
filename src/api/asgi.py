"""ASGI entry point for servers that import an app object (uvicorn with --workers, gunicorn).
The only module-level app: everything else builds one with create_app(settings)."""

from asfmatch.api.app import create_app
from asfmatch.api.server import freeze_startup_objects
from asfmatch.storage.settings import Settings

app = create_app(Settings.from_env())
app.on_startup.append(freeze_startup_objects)
