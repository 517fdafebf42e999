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
from jeeves.emulators.slack.emulator import EXTRAS_KEY, Emulator
from jeeves.emulators.slack.metrics import EmulatorMetrics
from jeeves.emulators.slack.routes import control, oidc, page, web_api
from jeeves.emulators.slack.settings import SlackEmulatorSettings, parse_channels, parse_delays
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
    web = WebApi(
        identity=identity,
        token=settings.slack_bot_token.get_secret_value(),
        messages=MessageLog(limit),
        calls=CallLog(limit),
        faults=FaultBook(),
        channels=parse_channels(settings.emulator_channels),
    )
    config = DeliveryConfig(
        gateway_url=settings.emulator_gateway_url,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        ack_timeout_s=settings.emulator_ack_timeout_s,
        retry_delays_s=parse_delays(settings.emulator_retry_delays_s),
        echo_bot_messages=settings.emulator_echo_bot_messages,
    )
    return Emulator(
        identity=identity,
        web_api=web,
        deliverer=Deliverer(kit(app).http, config),
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
    install_sign_in(app, settings, emulator.identity)

    @app.after_serving
    async def _stop_deliveries() -> None:
        await emulator.deliverer.close()

    return app
