"""Assembles the Slack emulator: kit app, emulated workspace, Web API, control API, chat page."""

from __future__ import annotations

from quart import Quart

from jeeves.emulators.slack.delivery import Deliverer, DeliveryConfig
from jeeves.emulators.slack.domain.deliveries import DeliveryLog
from jeeves.emulators.slack.domain.envelopes import Identity
from jeeves.emulators.slack.domain.faults import FaultBook
from jeeves.emulators.slack.domain.messages import CallLog, MessageLog
from jeeves.emulators.slack.domain.oidc import METHODS as OIDC_METHODS
from jeeves.emulators.slack.domain.oidc import SignInWithSlack
from jeeves.emulators.slack.domain.web_api import WebApi
from jeeves.emulators.slack.domain.workspaces import Workspaces, parse_teams
from jeeves.emulators.slack.emulator import EXTRAS_KEY, Emulator
from jeeves.emulators.slack.metrics import EmulatorMetrics
from jeeves.emulators.slack.routes import control, oauth, oidc, page, socket, web_api
from jeeves.emulators.slack.settings import SlackEmulatorSettings, parse_channels, parse_delays
from jeeves.emulators.slack.socket_delivery import SocketHub
from jeeves.kit.app import create_app, kit


def build_emulator(app: Quart, settings: SlackEmulatorSettings) -> Emulator:
    identity = Identity(
        team_id=settings.emulator_team_id,
        team_domain=settings.emulator_team_domain,
        app_id=settings.emulator_app_id,
        bot_user_id=settings.emulator_bot_user_id,
        bot_id=settings.emulator_bot_id,
        bot_name=settings.emulator_bot_name,
    )
    limit = settings.emulator_history_limit
    workspaces = Workspaces(
        identity,
        settings.slack_bot_token.get_secret_value(),
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        rotation=settings.emulator_token_rotation,
        token_ttl_s=settings.emulator_token_ttl_s,
    )
    for team_id, domain in parse_teams(settings.emulator_teams):
        workspaces.add(team_id, domain)
    web = WebApi(
        identity=identity,
        token=settings.slack_bot_token.get_secret_value(),
        workspaces=workspaces,
        messages=MessageLog(limit),
        calls=CallLog(limit),
        faults=FaultBook(),
        channels=parse_channels(settings.emulator_channels),
        app_token=settings.slack_app_token.get_secret_value(),
    )
    config = DeliveryConfig(
        gateway_url=settings.emulator_gateway_url,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        ack_timeout_s=settings.emulator_ack_timeout_s,
        retry_delays_s=parse_delays(settings.emulator_retry_delays_s),
        echo_bot_messages=settings.emulator_echo_bot_messages,
        mode="socket" if settings.emulator_delivery == "socket" else "http",
    )
    hub = SocketHub(identity.app_id)
    public_url = settings.public_url()
    web.open_socket = lambda: hub.open_url(public_url)
    return Emulator(
        identity=identity,
        web_api=web,
        deliverer=Deliverer(kit(app).http, config, hub),
        deliveries=DeliveryLog(limit),
        public_url=settings.public_url(),
        default_user=settings.emulator_default_user,
        keep=limit,
    )


def install_sign_in(app: Quart, settings: SlackEmulatorSettings, identity: Identity) -> None:
    """Sign in with Slack: the provider, the people on its page, and its routes."""
    kit(app).extras[oidc.OIDC_KEY] = SignInWithSlack(
        identity=identity,
        client_id=settings.emulator_oidc_client_id,
        client_secret=settings.emulator_oidc_client_secret.get_secret_value(),
        redirect_uris=tuple(
            u.strip() for u in settings.emulator_oidc_redirect_uris.split(",") if u.strip()
        ),
    )
    kit(app).extras[oidc.PEOPLE_KEY] = [
        p.strip() for p in settings.emulator_people.split(",") if p.strip()
    ]
    app.register_blueprint(oidc.blueprint)


def build_app(settings: SlackEmulatorSettings) -> Quart:
    app = create_app("slack-emulator", settings)
    emulator = build_emulator(app, settings)
    emulator.web_api.on_post.append(emulator.echo_bot_message)
    emulator.metrics = EmulatorMetrics(
        kit(app).registry, [*emulator.web_api.methods(), *OIDC_METHODS]
    )
    kit(app).extras[EXTRAS_KEY] = emulator
    app.register_blueprint(web_api.blueprint)
    app.register_blueprint(control.blueprint)
    app.register_blueprint(page.blueprint)
    app.register_blueprint(socket.blueprint)
    app.register_blueprint(oauth.blueprint)
    install_sign_in(app, settings, emulator.identity)

    @app.after_serving
    async def _stop_deliveries() -> None:
        await emulator.deliverer.close()

    return app
