{{/*
Peers and rules of the NetworkPolicies (networkpolicy.yaml). A peer is a Pod of this namespace
by its component label; action Pods (made by the operator) carry component "action".
*/}}

{{- define "jeeves.np.pod" -}}
- podSelector:
    matchLabels:
      app.kubernetes.io/part-of: jeeves
      app.kubernetes.io/component: {{ . }}
{{- end -}}

{{- define "jeeves.np.allJeeves" -}}
- podSelector:
    matchLabels:
      app.kubernetes.io/part-of: jeeves
{{- end -}}

{{- define "jeeves.np.http" -}}
ports:
  - {port: http, protocol: TCP}
{{- end -}}

{{/*
Ingress rules: peers allowed to reach `http` ("anyone": no `from`), then the extra peers.
Args: (list $ peers).
*/}}
{{- define "jeeves.np.ingressHttp" -}}
{{- $ := first . -}}
{{- if eq (last .) "anyone" }}
- {{- include "jeeves.np.http" $ | nindent 2 }}
{{- else if last . }}
- from:
    {{- last . | trim | nindent 4 }}
  {{- include "jeeves.np.http" $ | nindent 2 }}
{{- end }}
{{- with $.Values.networkPolicy.extraFrom }}
- from:
    {{- toYaml . | nindent 4 }}
  {{- include "jeeves.np.http" $ | nindent 2 }}
{{- end }}
{{- end -}}

{{- define "jeeves.np.egressDns" -}}
- {{- with .Values.networkPolicy.dnsTo }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    - {port: 53, protocol: UDP}
    - {port: 53, protocol: TCP}
{{- end -}}

{{- define "jeeves.np.egressTo" -}}
- to:
    {{- include "jeeves.np.pod" (first .) | nindent 4 }}
  {{- with last . }}
  ports:
    - {port: {{ . }}, protocol: TCP}
  {{- end }}
{{- end -}}

{{- define "jeeves.np.egressExternal" -}}
-
  {{- with .to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  ports:
    {{- range .ports }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
{{- end -}}

{{- define "jeeves.np.egressEtcd" -}}
{{- if (index .Values "jeeves-etcd").enabled -}}
{{ include "jeeves.np.egressTo" (list "etcd" "client") }}
{{- else -}}
{{ include "jeeves.np.egressExternal" .Values.networkPolicy.externalEtcd }}
{{- end -}}
{{- end -}}

{{- define "jeeves.np.egressDatabase" -}}
{{- if include "jeeves.inChartDatabase" . -}}
{{ include "jeeves.np.egressTo" (list "postgres" "postgresql") }}
{{- else -}}
{{ include "jeeves.np.egressExternal" .Values.networkPolicy.externalDatabase }}
{{- end -}}
{{- end -}}

{{- define "jeeves.np.egressInternet" -}}
- to:
    {{- range .Values.networkPolicy.internet.cidrs }}
    - ipBlock: {cidr: {{ . }}}
    {{- end }}
  ports:
    {{- range .Values.networkPolicy.internet.ports }}
    - {port: {{ . }}, protocol: TCP}
    {{- end }}
{{- end -}}

{{/* Every Jeeves Pod may ask the token dealer, etcd and DNS. */}}
{{- define "jeeves.np.egressBase" -}}
{{ include "jeeves.np.egressDns" . }}
{{ include "jeeves.np.egressTo" (list "tokens" "http") }}
{{ include "jeeves.np.egressEtcd" . }}
{{- end -}}
