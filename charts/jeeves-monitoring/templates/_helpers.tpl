{{/* Names and labels of the jeeves-monitoring chart. Objects are named jeeves-… like the
platform's (fixed names: one monitoring release per Jeeves installation). */}}

{{- define "monitoring.labels" -}}
app.kubernetes.io/name: jeeves-monitoring
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: monitoring
app.kubernetes.io/part-of: jeeves
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "monitoring.alertsImage" -}}
{{- $image := .Values.alerts.image -}}
{{- $tag := $image.tag | default .Chart.AppVersion -}}
{{- with $image.registry | trimSuffix "/" -}}{{ . }}/{{- end -}}
{{- printf "%s:%s" $image.repository $tag -}}
{{- end -}}

{{/* The Secret with the webhook token (key `token`). */}}
{{- define "monitoring.webhookSecret" -}}
{{- .Values.alerts.webhookToken.existingSecret | default "jeeves-alerts-webhook" -}}
{{- end -}}

{{/* Where Alertmanager posts: the Service the operator makes for the `alerts` action. */}}
{{- define "monitoring.webhookUrl" -}}
http://jeeves-alerts.{{ .Release.Namespace }}.svc:8080/v1/alertmanager
{{- end -}}

{{/* Pod security of the migration Job: the image contract (UID 10001, read-only root). */}}
{{- define "monitoring.podSecurity" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
seccompProfile: {type: RuntimeDefault}
{{- end -}}
