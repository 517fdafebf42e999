"""The Slack emulator (`jeeves-slack-emulator`): Slack's wire formats, both ways, on loopback.

Run it with `JEEVES_SLACK_SIGNING_SECRET`, `JEEVES_SLACK_BOT_TOKEN` and
`JEEVES_EMULATOR_GATEWAY_URL` (the gateway's base URL). Full reference: docs/slack-emulator.md.

Towards the app (the gateway), signed like Slack (`X-Slack-Signature`, `X-Slack-Request-Timestamp`):
  POST {gateway}/slack/events          Events API `event_callback` (app_mention / message);
                                       no 2xx within the ack timeout (3 s) → up to 3 retries with
                                       the same event_id, `X-Slack-Retry-Num` and `-Reason`
  POST {gateway}/slack/commands        slash command form (command=/jeeves, text, response_url, …)
  POST {gateway}/slack/interactivity   `payload` form field holding a block_actions JSON

In Socket Mode (`JEEVES_EMULATOR_DELIVERY=socket`) the same arrive as envelopes on the app's
WebSocket connections (`apps.connections.open` with the app-level token → `/link/?ticket=…`),
acks awaited by envelope_id, unacked envelopes delivered again. A distributed app installs
itself into the emulator's workspaces with OAuth v2 (`/oauth/v2/authorize`, `oauth.v2.access`,
token rotation); `/_emulator/teams/<team>/uninstall` takes it out again.

From the app (point slack_sdk's `AsyncWebClient(base_url=f"{emulator}/api/")` at it):
  /api/auth.test  /api/chat.postMessage  /api/chat.postEphemeral  /api/chat.update
  /api/users.info  /api/api.test — JSON or form bodies; bot token as `Authorization: Bearer`
  or `token`; answers like Slack (`{"ok": true, …}` / `{"ok": false, "error": …}`).

Control API (JSON, what tests and the chat page use; `tests/support/slack.py` wraps it):
  GET    /_emulator/info                 identities, channels, gateway URL, timings
  PUT    /_emulator/config               {"gateway_url", "ack_timeout_s", "retry_delays_s",
                                          "echo_bot_messages"}
  POST   /_emulator/send/message         {"text", "channel"?, "user"?, "thread_ts"?,
                                          "event"?: auto|app_mention|message, "as_retry"?: 0-3,
                                          "force_retries"?: 0-3, "no_ack"?: bool, "wait"?: bool,
                                          "subtype"?, "bot_id"?}
                                          → {"event_id", "delivery_id", "ts", "channel", "delivery"}
  POST   /_emulator/send/mention         same; the text gets the bot's `<@U0JEEVES>` prefix
  POST   /_emulator/send/command         {"text", "command"?: "/jeeves", "channel"?, "user"?}
  POST   /_emulator/send/click           {"action_id", "value", "message_ts"?, "block_id"?, …}
  POST   /_emulator/send/url_verification  {"challenge"?} → {"challenge", "verified", …}
  POST   /_emulator/replay               {"event_id", "retry_num"?: 1, "wait"?} same bytes again
  GET    /_emulator/messages             ?channel=&since=<epoch>&source=api|user|response_url|all
  GET    /_emulator/calls                every Web API call: method, channel, status, error
  GET    /_emulator/deliveries           ?event_id=&kind=&channel= deliveries with their attempts
  GET    /_emulator/deliveries/<id>      ?wait=<s> waits until it is settled
  POST   /_emulator/faults               {"kind": rate_limit|server_error|slack_error, "channel"?,
                                          "methods"?, "count"?, "duration_s"?, "retry_after"?,
                                          "status"?, "error"?} → the fault with its "id"
  GET/DELETE /_emulator/faults, DELETE /_emulator/faults/<id>
  POST   /_emulator/reset                forget messages, calls, deliveries and faults
  POST   /_emulator/hooks/<id>           the response_url given with commands and clicks

Sign in with Slack (OpenID Connect, Slack's wire format; see domain/oidc.py):
  GET/POST /openid/connect/authorize    a page where you pick the emulated person
  /api/openid.connect.token  /api/openid.connect.userInfo   (client JEEVES_EMULATOR_OIDC_CLIENT_*)
  GET /openid/connect/keys  GET /.well-known/openid-configuration

`GET /` is a small chat page for people: pick a channel, type `@jeeves help`, watch the replies.
"""
