{{/* Names and labels of the jeeves-operator chart (fixed names: one operator per cluster). */}}

{{- define "operator.selectorLabels" -}}
app.kubernetes.io/name: jeeves-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "operator.labels" -}}
{{ include "operator.selectorLabels" . }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: jeeves
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "operator.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- with .Values.image.registry | trimSuffix "/" -}}{{ . }}/{{- end -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}

{{- define "operator.etcdEndpoints" -}}
{{- required "jeeves-operator: set etcd.endpoints (host:port,...; the jeeves chart's in-chart etcd is jeeves-etcd.<namespace>.svc:2379)" .Values.etcd.endpoints -}}
{{- end -}}

{{/* RBAC rules of manifests/rbac/jeeves-operator.yaml, minus discovery and peering. */}}
{{- define "operator.actionRules" -}}
# kopf: Events about JeevesActions.
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
# The resource it reconciles (patch: finalizers and kopf's progress annotations).
- apiGroups: [jeeves.dev]
  resources: [jeevesactions]
  verbs: [get, list, watch, patch]
- apiGroups: [jeeves.dev]
  resources: [jeevesactions/status]
  verbs: [get, patch]
# Owner references with blockOwnerDeletion need this where OwnerReferencesPermissionEnforcement
# is on (OpenShift and hardened clusters).
- apiGroups: [jeeves.dev]
  resources: [jeevesactions/finalizers]
  verbs: [update]
# What it derives from a JeevesAction.
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, create, patch, delete]
{{- end -}}

{{- define "operator.discoveryRules" -}}
# kopf: discovery of served resources and namespaces.
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch]
{{- end -}}

{{/* kopf: peering (one active replica at a time). Args: (list $ "clusterkopfpeerings"). */}}
{{- define "operator.peeringRules" -}}
{{- $ := first . -}}
- apiGroups: [kopf.dev]
  resources: [{{ last . }}]
  resourceNames: [{{ $.Values.peering.name }}]
  verbs: [get, patch]
- apiGroups: [kopf.dev]
  resources: [{{ last . }}]
  verbs: [list, watch]
{{- end -}}

{{- define "operator.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "operator.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}
