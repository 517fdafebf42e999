{{/*
Names, labels, images, API versions and shared pieces of the jeeves chart: the one place they
are defined. Names are fixed (`jeeves-<X>`, the contract shared with the images and the
operator), so one namespace holds one release.
*/}}

{{/* The container port every Jeeves image listens on (JEEVES_BIND). */}}
{{- define "jeeves.containerPort" -}}8080{{- end -}}

{{/* Platform deployables, in start order. */}}
{{- define "jeeves.platform" -}}gateway dispatcher poster data tokens{{- end -}}

{{/* Optional platform deployables (off by default), each behind jeeves-X.enabled. */}}
{{- define "jeeves.optional" -}}dashboard socket{{- end -}}

{{/* The emulators (off by default), each behind jeeves-X.enabled. */}}
{{- define "jeeves.emulators" -}}slack-emulator weather-emulator strava-emulator{{- end -}}

{{/* Names of `list` (space-separated) whose jeeves-X.enabled is true. Args: (list $ "a b"). */}}
{{- define "jeeves.enabledOf" -}}
{{- $ := first . -}}
{{- $names := list -}}
{{- range $name := splitList " " (last .) -}}
{{- if (index $.Values (printf "jeeves-%s" $name)).enabled -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- end -}}
{{- join " " $names -}}
{{- end -}}

{{/* The platform services this release runs: the platform and the enabled optional ones (they
get PodDisruptionBudgets and, where they have it, autoscaling). */}}
{{- define "jeeves.services" -}}
{{- $names := splitList " " (include "jeeves.platform" .) -}}
{{- with include "jeeves.enabledOf" (list . (include "jeeves.optional" .)) -}}
{{- $names = concat $names (splitList " " .) -}}
{{- end -}}
{{- join " " $names -}}
{{- end -}}

{{/* Deployables that run as Deployment + Service: the services and the enabled emulators. */}}
{{- define "jeeves.deployables" -}}
{{- $names := splitList " " (include "jeeves.services" .) -}}
{{- with include "jeeves.enabledOf" (list . (include "jeeves.emulators" .)) -}}
{{- $names = concat $names (splitList " " .) -}}
{{- end -}}
{{- join " " $names -}}
{{- end -}}

{{/* Deployables that own a schema and so have `jeeves-<X> migrate`, in migration order. */}}
{{- define "jeeves.migrated" -}}
{{- $names := list "gateway" "dispatcher" "poster" "data" -}}
{{- with include "jeeves.enabledOf" (list . (include "jeeves.optional" .)) -}}
{{- $names = concat $names (splitList " " .) -}}
{{- end -}}
{{- join " " $names -}}
{{- end -}}

{{/* The key of the database Secret holding deployable X's JEEVES_DATABASE_URL. */}}
{{- define "jeeves.databaseKey" -}}
{{- if eq . "data" -}}data-url
{{- else if eq . "dashboard" -}}dashboard-url
{{- else -}}url
{{- end -}}
{{- end -}}

{{/* The values block of deployable X: .Values["jeeves-X"]. Args: (list $ "gateway"). */}}
{{- define "jeeves.block" -}}
{{- toJson (index (first .).Values (printf "jeeves-%s" (last .))) -}}
{{- end -}}

{{- define "jeeves.chartLabel" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of component X: never a changing value. Args: (list $ "gateway"). */}}
{{- define "jeeves.selectorLabels" -}}
{{- $ := first . -}}
app.kubernetes.io/name: jeeves-{{ last . }}
app.kubernetes.io/instance: {{ $.Release.Name }}
{{- end -}}

{{/* All labels of component X. Args: (list $ "gateway"). */}}
{{- define "jeeves.labels" -}}
{{- $ := first . -}}
{{ include "jeeves.selectorLabels" . }}
app.kubernetes.io/component: {{ last . }}
app.kubernetes.io/part-of: jeeves
app.kubernetes.io/managed-by: {{ $.Release.Service }}
app.kubernetes.io/version: {{ $.Chart.AppVersion | quote }}
helm.sh/chart: {{ include "jeeves.chartLabel" $ }}
{{- with $.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Image reference of a block with image.repository/tag. Args: (list $ $block). */}}
{{- define "jeeves.image" -}}
{{- $ := first . -}}
{{- $image := (last .).image -}}
{{- $tag := $image.tag | default $.Values.image.tag | default $.Chart.AppVersion -}}
{{- $registry := $.Values.image.registry | trimSuffix "/" -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry $image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Image of a JeevesAction named N whose own `image` is empty. Args: (list $ "echo"). */}}
{{- define "jeeves.actionImage" -}}
{{- include "jeeves.image" (list (first .) (dict "image" (dict "repository" (printf "jeeves-%s" (last .)) "tag" ""))) -}}
{{- end -}}

{{/* http://jeeves-X.<namespace>.svc:<port>: reachable from any namespace. Args: (list $ "data"). */}}
{{- define "jeeves.url" -}}
{{- $ := first . -}}
{{- $block := index $.Values (printf "jeeves-%s" (last .)) -}}
{{- printf "http://jeeves-%s.%s.svc:%v" (last .) $.Release.Namespace $block.service.port -}}
{{- end -}}

{{/*
API versions by what the cluster serves. Against a real API server (helm install/upgrade, or
helm template --api-versions) .Capabilities lists kinds, so the check is exact; offline it lists
no kinds, so the Kubernetes version decides (helm template --kube-version 1.20.0).
*/}}
{{- define "jeeves.discovered" -}}
{{- if .Capabilities.APIVersions.Has "v1/Service" -}}true{{- end -}}
{{- end -}}

{{- define "jeeves.pdbApiVersion" -}}
{{- if .Capabilities.APIVersions.Has "policy/v1/PodDisruptionBudget" -}}policy/v1
{{- else if include "jeeves.discovered" . -}}policy/v1beta1
{{- else if semverCompare ">=1.21-0" .Capabilities.KubeVersion.Version -}}policy/v1
{{- else -}}policy/v1beta1
{{- end -}}
{{- end -}}

{{- define "jeeves.hpaApiVersion" -}}
{{- if .Capabilities.APIVersions.Has "autoscaling/v2/HorizontalPodAutoscaler" -}}autoscaling/v2
{{- else if include "jeeves.discovered" . -}}autoscaling/v2beta2
{{- else if semverCompare ">=1.23-0" .Capabilities.KubeVersion.Version -}}autoscaling/v2
{{- else -}}autoscaling/v2beta2
{{- end -}}
{{- end -}}

{{/* Where things are. */}}
{{- define "jeeves.inChartDatabase" -}}
{{- if (index .Values "jeeves-postgres").enabled -}}true{{- end -}}
{{- end -}}

{{- define "jeeves.etcdEndpoints" -}}
{{- if (index .Values "jeeves-etcd").enabled -}}
{{- printf "jeeves-etcd.%s.svc:2379" .Release.Namespace -}}
{{- else if .Values.etcd.endpoints -}}
{{- .Values.etcd.endpoints -}}
{{- else -}}
{{- fail "jeeves: no etcd: set etcd.endpoints (host:port,...) or jeeves-etcd.enabled=true" -}}
{{- end -}}
{{- end -}}

{{/*
The database: the in-chart PostgreSQL (URLs built from its password by Kubernetes' $(VAR)
expansion, so the password lives in one Secret only), or an external one whose URLs are in
`jeeves-database` (from values) or in database.existingSecret (keys url, data-url).
*/}}
{{- define "jeeves.databaseSecret" -}}
{{- if .Values.database.existingSecret -}}{{ .Values.database.existingSecret }}
{{- else -}}jeeves-database{{- end -}}
{{- end -}}

{{- define "jeeves.postgresSecret" -}}
{{- (index .Values "jeeves-postgres").auth.existingSecret | default "jeeves-postgres" -}}
{{- end -}}

{{- define "jeeves.checkDatabase" -}}
{{- if not (or (include "jeeves.inChartDatabase" .) .Values.database.existingSecret .Values.database.url) -}}
{{- fail "jeeves: no database: set database.url (postgresql://user:password@host:5432/db), database.existingSecret, or jeeves-postgres.enabled=true" -}}
{{- end -}}
{{- end -}}

{{/* JEEVES_DATABASE_URL from `key` (url or data-url) of the database Secret. Args: (list $ key). */}}
{{- define "jeeves.databaseEnv" -}}
{{- $ := first . -}}
{{- include "jeeves.checkDatabase" $ -}}
{{- if include "jeeves.inChartDatabase" $ -}}
{{- $pg := index $.Values "jeeves-postgres" -}}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.postgresSecret" $ }}, key: password}
- name: JEEVES_DATABASE_URL
  value: "postgresql://{{ $pg.auth.username }}:$(POSTGRES_PASSWORD)@jeeves-postgres.{{ $.Release.Namespace }}.svc:5432/{{ $pg.auth.database }}"
{{- else -}}
- name: JEEVES_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.databaseSecret" $ }}, key: {{ last . }}}
{{- end -}}
{{- end -}}

{{- define "jeeves.slackSecret" -}}
{{- .Values.slack.existingSecret | default "jeeves-slack" -}}
{{- end -}}

{{- define "jeeves.dataSecret" -}}
{{- (index .Values "jeeves-data").existingSecret | default "jeeves-data" -}}
{{- end -}}

{{- define "jeeves.botUserId" -}}
{{- if .Values.slack.botUserId -}}{{ .Values.slack.botUserId }}
{{- else if (index .Values "jeeves-slack-emulator").enabled -}}U0JEEVES
{{- else -}}
{{- fail "jeeves: set slack.botUserId (the bot's user id, U..., from Slack's auth.test)" -}}
{{- end -}}
{{- end -}}

{{- define "jeeves.slackApiUrl" -}}
{{- if (index .Values "jeeves-slack-emulator").enabled -}}
{{- printf "%s/api/" (include "jeeves.url" (list . "slack-emulator")) -}}
{{- else -}}{{ .Values.slack.apiUrl }}{{- end -}}
{{- end -}}

{{- define "jeeves.slackAuthorizeUrl" -}}
{{- if (index .Values "jeeves-slack-emulator").enabled -}}
{{- printf "%s/oauth/v2/authorize" (include "jeeves.url" (list . "slack-emulator")) -}}
{{- else -}}{{ .Values.slack.authorizeUrl }}{{- end -}}
{{- end -}}

{{- define "jeeves.slackOidcUrl" -}}
{{- if (index .Values "jeeves-slack-emulator").enabled -}}
{{- printf "%s/openid/connect" (include "jeeves.url" (list . "slack-emulator")) -}}
{{- else -}}{{ .Values.slack.oidcUrl }}{{- end -}}
{{- end -}}

{{/* The Slack app's OAuth client id: slack.clientId, else the emulator's client. `what` names
who needs it, for the message. Args: (list $ what). */}}
{{- define "jeeves.slackClientId" -}}
{{- $ := first . -}}
{{- $emulator := index $.Values "jeeves-slack-emulator" -}}
{{- if $.Values.slack.clientId -}}{{ $.Values.slack.clientId }}
{{- else if $emulator.enabled -}}{{ $emulator.settings.emulatorOidcClientId }}
{{- else -}}
{{- fail (printf "jeeves: set slack.clientId and slack.clientSecret (the Slack app's App Credentials): %s needs them" (last .)) -}}
{{- end -}}
{{- end -}}

{{/* https://<ingress host> of a block with ingress.enabled/host, or "". Args: a block. */}}
{{- define "jeeves.ingressUrl" -}}
{{- if and .ingress.enabled .ingress.host -}}https://{{ .ingress.host }}{{- end -}}
{{- end -}}

{{/* JEEVES_SLACK_REDIRECT_URI of a distributed app. */}}
{{- define "jeeves.slackRedirectUri" -}}
{{- $gateway := include "jeeves.ingressUrl" (index .Values "jeeves-gateway") -}}
{{- if .Values.slack.redirectUri -}}{{ .Values.slack.redirectUri }}
{{- else if $gateway -}}{{ $gateway }}/slack/oauth_redirect
{{- else if (index .Values "jeeves-slack-emulator").enabled -}}{{ include "jeeves.url" (list . "gateway") }}/slack/oauth_redirect
{{- else -}}
{{- fail "jeeves: slack.distributed needs slack.redirectUri (https://<host>/slack/oauth_redirect) or jeeves-gateway.ingress.host" -}}
{{- end -}}
{{- end -}}

{{/* JEEVES_PUBLIC_URL of the dashboard. */}}
{{- define "jeeves.dashboardPublicUrl" -}}
{{- $block := index .Values "jeeves-dashboard" -}}
{{- if $block.publicUrl -}}{{ $block.publicUrl | trimSuffix "/" }}
{{- else if include "jeeves.ingressUrl" $block -}}{{ include "jeeves.ingressUrl" $block }}
{{- else -}}
{{- fail "jeeves: jeeves-dashboard needs publicUrl (the URL people open, https://...) or ingress.enabled with ingress.host" -}}
{{- end -}}
{{- end -}}

{{/* The Strava action's Ingress: its own host, else the gateway's (className, TLS likewise). */}}
{{- define "jeeves.stravaIngress" -}}
{{- $own := .Values.actions.strava.ingress -}}
{{- $gateway := (index .Values "jeeves-gateway").ingress -}}
{{- $shared := not $own.host -}}
{{- $host := $own.host | default $gateway.host -}}
{{- if and $own.enabled (not $host) -}}
{{- fail "jeeves: actions.strava.ingress needs a host (actions.strava.ingress.host or jeeves-gateway.ingress.host)" -}}
{{- end -}}
{{- toJson (dict "enabled" $own.enabled "host" $host "className" ($own.className | default (ternary $gateway.className "" $shared)) "tlsSecretName" ($own.tlsSecretName | default (ternary $gateway.tlsSecretName "" $shared)) "annotations" $own.annotations) -}}
{{- end -}}

{{- define "jeeves.stravaPublicUrl" -}}
{{- $strava := .Values.actions.strava -}}
{{- $ingress := include "jeeves.stravaIngress" . | fromJson -}}
{{- if $strava.publicUrl -}}{{ $strava.publicUrl | trimSuffix "/" }}
{{- else if $ingress.enabled -}}https://{{ $ingress.host }}
{{- else if (index .Values "jeeves-strava-emulator").enabled -}}http://jeeves-strava.{{ .Release.Namespace }}.svc:{{ $strava.port | default 8080 }}
{{- else -}}
{{- fail "jeeves: actions.strava needs publicUrl (where browsers reach /strava/callback) or ingress.enabled" -}}
{{- end -}}
{{- end -}}

{{- define "jeeves.stravaClientId" -}}
{{- if .Values.actions.strava.clientId -}}{{ .Values.actions.strava.clientId }}
{{- else if (index .Values "jeeves-strava-emulator").enabled -}}12345
{{- else -}}
{{- fail "jeeves: actions.strava needs clientId and clientSecret (or existingSecret): the app at strava.com/settings/api" -}}
{{- end -}}
{{- end -}}

{{- define "jeeves.stravaSecret" -}}
{{- .Values.actions.strava.existingSecret | default "jeeves-strava" -}}
{{- end -}}

{{/* Whether the Strava action's client secret is needed: the action or its emulator runs. */}}
{{- define "jeeves.stravaUsed" -}}
{{- if or (and .Values.actions.enabled .Values.actions.strava.install) (index .Values "jeeves-strava-emulator").enabled -}}true{{- end -}}
{{- end -}}

{{/*
A secret value that survives upgrades: the explicit value if given, else what the live Secret
holds (lookup), else a fresh one. Offline (helm template) lookup finds nothing, so every render
makes new values there. Args: dict ctx, secret, key, value, generate ("token" | "fernet" |
"app-token", an xapp-... that jeeves-socket accepts).
*/}}
{{- define "jeeves.keep" -}}
{{- if .value -}}{{ .value }}
{{- else -}}
{{- $live := lookup "v1" "Secret" .ctx.Release.Namespace .secret -}}
{{- $data := dig "data" dict ($live | default dict) -}}
{{- if hasKey $data .key -}}{{ index $data .key | b64dec }}
{{- else if eq .generate "fernet" -}}{{ randBytes 32 | replace "+" "-" | replace "/" "_" }}
{{- else if eq .generate "app-token" -}}xapp-1-{{ randAlphaNum 40 }}
{{- else -}}{{ randAlphaNum 43 }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Settings block -> env entries: {ingestWriters: 2} -> JEEVES_INGEST_WRITERS="2". Args: a dict.
*/}}
{{- define "jeeves.settingsEnv" -}}
{{- range $key, $value := . }}
- name: JEEVES_{{ snakecase $key | upper }}
  value: {{ if kindIs "string" $value }}{{ $value | quote }}{{ else }}{{ $value | toJson | quote }}{{ end }}
{{- end }}
{{- end -}}



{{/* Env every deployable gets. */}}
{{- define "jeeves.commonEnv" -}}
- name: JEEVES_ENV
  value: {{ .Values.env | quote }}
- name: JEEVES_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: JEEVES_BIND
  value: "0.0.0.0:{{ include "jeeves.containerPort" . }}"
{{- end -}}

{{/* Env of a receiver/caller of tokens (AuthSettings). */}}
{{- define "jeeves.authEnv" -}}
- name: JEEVES_TOKENS_URL
  value: {{ include "jeeves.url" (list . "tokens") | quote }}
- name: JEEVES_AUTH_ISSUER
  value: {{ .Values.auth.issuer | quote }}
{{- with .Values.auth.settings }}
{{ include "jeeves.settingsEnv" . | trim }}
{{- end }}
{{- end -}}

{{- define "jeeves.clientSecretEnv" -}}
- name: JEEVES_AUTH_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: jeeves-{{ . }}-auth
      key: client-secret
{{- end -}}

{{/* Whether the value at a dotted path of .Values is true. Args: (list $ "jeeves-socket.enabled"). */}}
{{- define "jeeves.valueAt" -}}
{{- $value := (first .).Values -}}
{{- range $part := splitList "." (last .) -}}
{{- if kindIs "map" $value -}}{{- $value = get $value $part -}}{{- else -}}{{- $value = "" -}}{{- end -}}
{{- end -}}
{{- if $value -}}true{{- end -}}
{{- end -}}

{{/*
The token dealer's clients this release registers, as JSON {id: {audiences, scopes, secret}}:
the entries of auth.clients whose `when` paths are all true (the one table; see values.yaml).
*/}}
{{- define "jeeves.clients" -}}
{{- $ := . -}}
{{- $active := dict -}}
{{- range $id, $client := .Values.auth.clients -}}
{{- if $client -}}
{{- $on := true -}}
{{- range $path := $client.when | default list -}}
{{- if not (include "jeeves.valueAt" (list $ $path)) -}}{{- $on = false -}}{{- end -}}
{{- end -}}
{{- if $on -}}{{- $_ := set $active $id (omit $client "when") -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $active -}}
{{- end -}}

{{/* JEEVES_AUTH_CLIENT_SECRET of deployable X, whose dealer client X must be registered.
Args: (list $ "dashboard" "why it calls"). */}}
{{- define "jeeves.callerEnv" -}}
{{- $ := index . 0 -}}
{{- $id := index . 1 -}}
{{- if not (hasKey (include "jeeves.clients" $ | fromJson) $id) -}}
{{- fail (printf "jeeves: %s needs its token dealer client: auth.clients.%s is missing or its `when` is false" (index . 2) $id) -}}
{{- end -}}
{{ include "jeeves.clientSecretEnv" $id }}
{{- end -}}



{{/* What each deployable needs beyond its settings. Args: (list $ "gateway"). */}}
{{- define "jeeves.env.gateway" -}}
{{- $ := first . -}}
{{ include "jeeves.databaseEnv" (list $ "url") }}
- name: JEEVES_SLACK_SIGNING_SECRET
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.slackSecret" $ }}, key: signing-secret}
- name: JEEVES_SLACK_BOT_USER_ID
  value: {{ include "jeeves.botUserId" $ | quote }}
- name: JEEVES_SLACK_API_URL
  value: {{ include "jeeves.slackApiUrl" $ | quote }}
{{- if $.Values.slack.distributed }}
{{ include "jeeves.distributedEnv" (list $ "gateway") }}
{{ include "jeeves.slackClientEnv" (list $ "slack.distributed (the gateway's OAuth installs)") }}
- name: JEEVES_SLACK_REDIRECT_URI
  value: {{ include "jeeves.slackRedirectUri" $ | quote }}
- name: JEEVES_SLACK_AUTHORIZE_URL
  value: {{ include "jeeves.slackAuthorizeUrl" $ | quote }}
{{- end }}
{{- end -}}

{{/* A distributed app's service: JEEVES_SLACK_DISTRIBUTED, the data service, its own token.
Args: (list $ "gateway"). */}}
{{- define "jeeves.distributedEnv" -}}
{{- $ := first . -}}
- name: JEEVES_SLACK_DISTRIBUTED
  value: "true"
- name: JEEVES_DATA_URL
  value: {{ include "jeeves.url" (list $ "data") | quote }}
{{ include "jeeves.authEnv" $ }}
{{ include "jeeves.callerEnv" (list $ (last .) (printf "slack.distributed (jeeves-%s asks data)" (last .))) }}
{{- end -}}

{{/* The Slack app's client id and secret (OAuth installs, token refresh, Sign in with Slack).
Args: (list $ who-needs-it). */}}
{{- define "jeeves.slackClientEnv" -}}
{{- $ := first . -}}
- name: JEEVES_SLACK_CLIENT_ID
  value: {{ include "jeeves.slackClientId" . | quote }}
- name: JEEVES_SLACK_CLIENT_SECRET
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.slackSecret" $ }}, key: client-secret}
{{- end -}}

{{- define "jeeves.env.dispatcher" -}}
{{- $ := first . -}}
{{ include "jeeves.databaseEnv" (list $ "url") }}
- name: JEEVES_SLACK_BOT_USER_ID
  value: {{ include "jeeves.botUserId" $ | quote }}
- name: JEEVES_ETCD_ENDPOINTS
  value: {{ include "jeeves.etcdEndpoints" $ | quote }}
- name: JEEVES_DATA_URL
  value: {{ include "jeeves.url" (list $ "data") | quote }}
- name: JEEVES_SLACK_API_URL
  value: {{ include "jeeves.slackApiUrl" $ | quote }}
{{ include "jeeves.authEnv" $ }}
{{ include "jeeves.callerEnv" (list $ "dispatcher" "the dispatcher (it calls actions and data)") }}
{{- end -}}

{{- define "jeeves.env.poster" -}}
{{- $ := first . -}}
{{ include "jeeves.databaseEnv" (list $ "url") }}
- name: JEEVES_SLACK_API_URL
  value: {{ include "jeeves.slackApiUrl" $ | quote }}
{{- if $.Values.slack.distributed }}
{{ include "jeeves.distributedEnv" (list $ "poster") }}
{{ include "jeeves.slackClientEnv" (list $ "slack.distributed (the poster refreshes rotating tokens)") }}
{{- else }}
- name: JEEVES_SLACK_BOT_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.slackSecret" $ }}, key: bot-token}
{{ include "jeeves.authEnv" $ }}
{{- end }}
{{- end -}}

{{- define "jeeves.env.socket" -}}
{{- $ := first . -}}
{{- $block := index $.Values "jeeves-socket" -}}
{{- $links := mul ($block.replicas | int) ($block.settings.socketConnections | default 1 | int) -}}
{{- if gt $links 10 -}}
{{- fail (printf "jeeves: jeeves-socket would open %d Socket Mode links (replicas x settings.socketConnections); Slack allows 10 per app" $links) -}}
{{- end -}}
{{ include "jeeves.databaseEnv" (list $ "url") }}
- name: JEEVES_SLACK_APP_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.slackSecret" $ }}, key: app-token}
- name: JEEVES_SLACK_API_URL
  value: {{ include "jeeves.slackApiUrl" $ | quote }}
- name: JEEVES_SLACK_BOT_USER_ID
  value: {{ include "jeeves.botUserId" $ | quote }}
{{- if $.Values.slack.distributed }}
{{ include "jeeves.distributedEnv" (list $ "socket") }}
{{- end }}
{{- end -}}

{{- define "jeeves.env.dashboard" -}}
{{- $ := first . -}}
{{- $block := index $.Values "jeeves-dashboard" -}}
{{ include "jeeves.databaseEnv" (list $ "dashboard-url") }}
- name: JEEVES_PUBLIC_URL
  value: {{ include "jeeves.dashboardPublicUrl" $ | quote }}
{{ include "jeeves.slackClientEnv" (list $ "jeeves-dashboard (Sign in with Slack)") }}
- name: JEEVES_SLACK_API_URL
  value: {{ include "jeeves.slackApiUrl" $ | quote }}
- name: JEEVES_SLACK_OIDC_URL
  value: {{ include "jeeves.slackOidcUrl" $ | quote }}
- name: JEEVES_DASHBOARD_ADMINS
  value: {{ join "," $block.admins | quote }}
- name: JEEVES_ETCD_ENDPOINTS
  value: {{ include "jeeves.etcdEndpoints" $ | quote }}
{{- range $service := list "data" "dispatcher" "poster" }}
- name: JEEVES_{{ upper $service }}_URL
  value: {{ include "jeeves.url" (list $ $service) | quote }}
{{- end }}
{{ include "jeeves.authEnv" $ }}
{{ include "jeeves.callerEnv" (list $ "dashboard" "jeeves-dashboard (it asks data, dispatcher and poster)") }}
{{- if $block.kubernetes.enabled }}
- name: JEEVES_KUBE_API_URL
  value: {{ $block.kubernetes.apiUrl | quote }}
- name: JEEVES_KUBE_NAMESPACE
  value: {{ $.Release.Namespace | quote }}
- name: JEEVES_KUBE_TOKEN_FILE
  value: /var/run/secrets/kubernetes.io/serviceaccount/token
- name: JEEVES_KUBE_CA_FILE
  value: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
{{- end }}
{{- end -}}

{{- define "jeeves.env.data" -}}
{{- $ := first . -}}
{{ include "jeeves.databaseEnv" (list $ "data-url") }}
- name: JEEVES_DATA_ENCRYPTION_KEY
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.dataSecret" $ }}, key: encryption-key}
{{ include "jeeves.authEnv" $ }}
{{- end -}}

{{- define "jeeves.env.tokens" -}}
{{- $ := first . -}}
- name: JEEVES_TOKENS_KEYS_DIR
  value: {{ include "jeeves.tokens.keysDir" $ }}
- name: JEEVES_TOKENS_CLIENTS_FILE
  value: {{ include "jeeves.tokens.clientsFile" $ }}
- name: JEEVES_AUTH_ISSUER
  value: {{ $.Values.auth.issuer | quote }}
{{- end -}}

{{- define "jeeves.env.slack-emulator" -}}
{{- $ := first . -}}
- name: JEEVES_SLACK_SIGNING_SECRET
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.slackSecret" $ }}, key: signing-secret}
- name: JEEVES_SLACK_BOT_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.slackSecret" $ }}, key: bot-token}
- name: JEEVES_EMULATOR_BOT_USER_ID
  value: {{ include "jeeves.botUserId" $ | quote }}
- name: JEEVES_EMULATOR_GATEWAY_URL
  value: {{ include "jeeves.url" (list $ "gateway") | quote }}
- name: JEEVES_EMULATOR_PUBLIC_URL
  value: {{ include "jeeves.url" (list $ "slack-emulator") | quote }}
- name: JEEVES_SLACK_APP_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.slackSecret" $ }}, key: app-token, optional: true}
{{- $clientId := include "jeeves.slackClientId" (list $ "the Slack emulator") }}
{{- range $variable := list "JEEVES_SLACK_CLIENT" "JEEVES_EMULATOR_OIDC_CLIENT" }}
- name: {{ $variable }}_ID
  value: {{ $clientId | quote }}
- name: {{ $variable }}_SECRET
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.slackSecret" $ }}, key: client-secret, optional: true}
{{- end }}
{{- end -}}

{{- define "jeeves.env.weather-emulator" -}}
{{- end -}}

{{- define "jeeves.env.strava-emulator" -}}
{{- $ := first . -}}
- name: JEEVES_STRAVA_CLIENT_ID
  value: {{ include "jeeves.stravaClientId" $ | quote }}
- name: JEEVES_STRAVA_CLIENT_SECRET
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.stravaSecret" $ }}, key: client-secret}
{{- end -}}

{{/*
The settings block of deployable X as env entries, after the chart's own choices: the
dispatcher's dashboardUrl defaults to the dashboard's public URL; the Slack emulator's OIDC
client is slack.clientId/clientSecret (set in jeeves.env.slack-emulator). Args: (list $ "x").
*/}}
{{- define "jeeves.settingsOf" -}}
{{- $ := first . -}}
{{- $name := last . -}}
{{- $settings := deepCopy ((index $.Values (printf "jeeves-%s" $name)).settings | default dict) -}}
{{- if and (eq $name "dispatcher") (not $settings.dashboardUrl) (index $.Values "jeeves-dashboard").enabled -}}
{{- $_ := set $settings "dashboardUrl" (include "jeeves.dashboardPublicUrl" $) -}}
{{- end -}}
{{- if eq $name "slack-emulator" -}}
{{- $settings = omit $settings "emulatorOidcClientId" "emulatorOidcClientSecret" -}}
{{- end -}}
{{- include "jeeves.settingsEnv" $settings -}}
{{- end -}}

{{/* The token dealer's files (see tokens-volumes in deployment.yaml). */}}
{{- define "jeeves.tokens.generatedKey" -}}
{{- $keys := (index .Values "jeeves-tokens").signingKeys -}}
{{- if not (or $keys.existingSecret $keys.files) -}}true{{- end -}}
{{- end -}}

{{- define "jeeves.tokens.keysDir" -}}
{{- if include "jeeves.tokens.generatedKey" . -}}/var/run/jeeves/state/keys
{{- else -}}/var/run/jeeves/keys{{- end -}}
{{- end -}}

{{- define "jeeves.tokens.clientsFile" -}}
{{- if (index .Values "jeeves-tokens").clientRegistry.existingSecret -}}/var/run/jeeves/clients/clients.json
{{- else -}}/var/run/jeeves/state/clients.json{{- end -}}
{{- end -}}

{{/* Security contexts: non-root UID 10001, nothing writable but /tmp and volumes. */}}
{{- define "jeeves.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "jeeves.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* Whether deployable X talks to the Kubernetes API (its ServiceAccount token mounted). */}}
{{- define "jeeves.usesKubeApi" -}}
{{- $ := first . -}}
{{- if and (eq (last .) "dashboard") (index $.Values "jeeves-dashboard").kubernetes.enabled -}}true{{- end -}}
{{- end -}}

{{/* Changes to these values roll the Pods (generated secrets never change on upgrade). */}}
{{- define "jeeves.configChecksum" -}}
{{- $v := .Values -}}
{{- toJson (list $v.slack $v.database $v.etcd $v.auth (index $v "jeeves-data").encryptionKey (index $v "jeeves-data").existingSecret (index $v "jeeves-tokens").signingKeys (index $v "jeeves-tokens").clientRegistry (omit $v.actions.strava "settings" "env" "resources")) | sha256sum -}}
{{- end -}}

{{/*
JEEVES_DATABASE_URL of a migration Job. Hooks with an external database read the hook Secret
`jeeves-migrate-database` (it exists during the hooks, unlike `jeeves-database`).
Args: (list $ "data" phase).
*/}}
{{- define "jeeves.migrateEnv" -}}
{{- $ := index . 0 -}}
{{- $key := include "jeeves.databaseKey" (index . 1) -}}
{{- if or (include "jeeves.inChartDatabase" $) $.Values.database.existingSecret -}}
{{ include "jeeves.databaseEnv" (list $ $key) }}
{{- else -}}
- name: JEEVES_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: jeeves-migrate-database, key: {{ $key }}}
{{- end -}}
{{- end -}}
