"""Assembles the data service: kit, database engine, token cipher, routes, schema check."""

from __future__ import annotations

from quart import Quart, request
from sqlalchemy.ext.asyncio import create_async_engine

from jeeves.data.credentials import Credentials
from jeeves.data.crypto import TokenCipher
from jeeves.data.migrating import head_revision, sqlalchemy_url
from jeeves.data.retention import install_retention
from jeeves.data.routes import blueprints
from jeeves.data.routes.common import CREDENTIALS_KEY, STORE_KEY
from jeeves.data.settings import DataSettings
from jeeves.data.store import Store
from jeeves.kit.app import create_app, kit
from jeeves.kit.auth import authorize_any, install_auth
from jeeves.kit.db import install_database, pool_of
from jeeves.kit.health import CheckFailed

DATA_SCOPE = "data"  # callers' tokens need `data` (or `admin`, which admin APIs require)
ADMIN_SCOPE = "admin"


def build_app(settings: DataSettings) -> Quart:
    app = create_app("data", settings)
    install_auth(app, settings)

    @app.before_request
    async def _authenticate() -> None:
        if request.blueprint is not None:  # the data API; health and metrics stay open
            await authorize_any(DATA_SCOPE, ADMIN_SCOPE)

    cipher = TokenCipher(settings.data_encryption_key.get_secret_value())
    for blueprint in blueprints():
        app.register_blueprint(blueprint)
    install_database(app, settings.database_url, max_size=settings.database_pool_size)
    _install_store(app, settings, cipher)
    install_retention(app, settings)  # after the store: it purges through it
    return app


def _install_store(app: Quart, settings: DataSettings, cipher: TokenCipher) -> None:
    head = head_revision()

    @app.before_serving
    async def _open() -> None:
        engine = create_async_engine(
            sqlalchemy_url(settings.database_url),
            pool_size=max(2, settings.database_pool_size // 2),
            max_overflow=0,
            pool_pre_ping=False,
            pool_recycle=300,
            connect_args={"command_timeout": 10},
        )
        kit(app).extras[STORE_KEY] = Store(engine, lambda: pool_of(app), cipher)
        kit(app).extras[CREDENTIALS_KEY] = Credentials(engine, cipher)

    @app.after_serving
    async def _close() -> None:
        kit(app).extras.pop(CREDENTIALS_KEY, None)
        store = kit(app).extras.pop(STORE_KEY, None)
        if isinstance(store, Store):
            await store.engine.dispose()

    async def _schema() -> str | None:
        store = kit(app).extras[STORE_KEY]
        assert isinstance(store, Store)
        current = await store.schema_revision()
        if current != head:
            raise CheckFailed(f"schema at {current}, expected {head}: run `jeeves-data migrate`")
        return f"revision {current}"

    kit(app).readiness.add("schema", _schema)
