{{/*
Names, labels, images, API versions and shared pieces of the jeeves chart: the one place they
are defined. Names are fixed (`jeeves-<X>`, the contract shared with the images and the
operator), so one namespace holds one release.
*/}}

{{/* The container port every Jeeves image listens on (JEEVES_BIND). */}}
{{- define "jeeves.containerPort" -}}8080{{- end -}}

{{/* Platform deployables, in start order. */}}
{{- define "jeeves.platform" -}}gateway dispatcher poster data tokens{{- end -}}

{{/* Deployables that run as Deployment + Service: the platform and the enabled emulators. */}}
{{- define "jeeves.deployables" -}}
{{- $names := splitList " " (include "jeeves.platform" .) -}}
{{- range $emulator := list "slack-emulator" "weather-emulator" -}}
{{- if (index $.Values (printf "jeeves-%s" $emulator)).enabled -}}
{{- $names = append $names $emulator -}}
{{- end -}}
{{- end -}}
{{- join " " $names -}}
{{- end -}}

{{/* Deployables that own a schema and so have `jeeves-<X> migrate`. */}}
{{- define "jeeves.migrated" -}}gateway dispatcher poster data{{- end -}}

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

{{/*
A secret value that survives upgrades: the explicit value if given, else what the live Secret
holds (lookup), else a fresh one. Offline (helm template) lookup finds nothing, so every render
makes new values there. Args: dict ctx, secret, key, value, generate ("token" | "fernet").
*/}}
{{- define "jeeves.keep" -}}
{{- if .value -}}{{ .value }}
{{- else -}}
{{- $live := lookup "v1" "Secret" .ctx.Release.Namespace .secret -}}
{{- $data := dig "data" dict ($live | default dict) -}}
{{- if hasKey $data .key -}}{{ index $data .key | b64dec }}
{{- else if eq .generate "fernet" -}}{{ randBytes 32 | replace "+" "-" | replace "/" "_" }}
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



{{/* What each deployable needs beyond its settings. Args: (list $ "gateway"). */}}
{{- define "jeeves.env.gateway" -}}
{{- $ := first . -}}
{{ include "jeeves.databaseEnv" (list $ "url") }}
- name: JEEVES_SLACK_SIGNING_SECRET
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.slackSecret" $ }}, key: signing-secret}
- name: JEEVES_SLACK_BOT_USER_ID
  value: {{ include "jeeves.botUserId" $ | quote }}
- name: JEEVES_ETCD_ENDPOINTS
  value: {{ include "jeeves.etcdEndpoints" $ | quote }}
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
{{ include "jeeves.authEnv" $ }}
{{ include "jeeves.clientSecretEnv" "dispatcher" }}
{{- end -}}

{{- define "jeeves.env.poster" -}}
{{- $ := first . -}}
{{ include "jeeves.databaseEnv" (list $ "url") }}
- name: JEEVES_SLACK_BOT_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ include "jeeves.slackSecret" $ }}, key: bot-token}
- name: JEEVES_SLACK_API_URL
  value: {{ include "jeeves.slackApiUrl" $ | quote }}
{{ include "jeeves.authEnv" $ }}
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
{{- end -}}

{{- define "jeeves.env.weather-emulator" -}}
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

{{/* Changes to these values roll the Pods (generated secrets never change on upgrade). */}}
{{- define "jeeves.configChecksum" -}}
{{- $v := .Values -}}
{{- toJson (list $v.slack $v.database $v.etcd $v.auth (index $v "jeeves-data").encryptionKey (index $v "jeeves-data").existingSecret (index $v "jeeves-tokens").signingKeys (index $v "jeeves-tokens").clientRegistry) | sha256sum -}}
{{- end -}}

{{/*
JEEVES_DATABASE_URL of a migration Job. Hooks with an external database read the hook Secret
`jeeves-migrate-database` (it exists during the hooks, unlike `jeeves-database`).
Args: (list $ "data" phase).
*/}}
{{- define "jeeves.migrateEnv" -}}
{{- $ := index . 0 -}}
{{- $key := ternary "data-url" "url" (eq (index . 1) "data") -}}
{{- if or (include "jeeves.inChartDatabase" $) $.Values.database.existingSecret -}}
{{ include "jeeves.databaseEnv" (list $ $key) }}
{{- else -}}
- name: JEEVES_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: jeeves-migrate-database, key: {{ $key }}}
{{- end -}}
{{- end -}}
