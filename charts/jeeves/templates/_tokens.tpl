{{/*
The token dealer's files. Signing keys: a Secret of `jeeves-tokens genkey` files mounted as the
keys directory (existingSecret / files), or the chart's generated PEM imported by the
`import-key` init container into a memory-backed directory. Client registry: a Secret holding a
hashed clients.json (existingSecret), or built at start by `build-registry` from the
`auth.clients` spec and the callers' own `jeeves-<id>-auth` Secrets.
*/}}

{{- define "jeeves.tokens.initContainers" -}}
{{- $block := index .Values "jeeves-tokens" -}}
{{- $generatedKey := include "jeeves.tokens.generatedKey" . -}}
{{- $buildRegistry := not $block.clientRegistry.existingSecret -}}
{{- if or $generatedKey $buildRegistry }}
initContainers:
  {{- if $generatedKey }}
  - name: import-key
    image: {{ include "jeeves.image" (list . $block) }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    command: [jeeves-tokens, import-key]
    args: [--pem, /var/run/jeeves/signing-key/signing-key.pem, --dir, /var/run/jeeves/state/keys]
    resources:
      {{- toYaml $block.resources | nindent 6 }}
    securityContext:
      {{- include "jeeves.containerSecurityContext" . | nindent 6 }}
    volumeMounts:
      - {name: tmp, mountPath: /tmp}
      - {name: state, mountPath: /var/run/jeeves/state}
      - {name: signing-key, mountPath: /var/run/jeeves/signing-key, readOnly: true}
  {{- end }}
  {{- if $buildRegistry }}
  - name: build-registry
    image: {{ include "jeeves.image" (list . $block) }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    command: [jeeves-tokens, build-registry]
    args:
      - --spec
      - /var/run/jeeves/clients-spec/spec.json
      - --secrets-dir
      - /var/run/jeeves/client-secrets
      - --out
      - /var/run/jeeves/state/clients.json
    resources:
      {{- toYaml $block.resources | nindent 6 }}
    securityContext:
      {{- include "jeeves.containerSecurityContext" . | nindent 6 }}
    volumeMounts:
      - {name: tmp, mountPath: /tmp}
      - {name: state, mountPath: /var/run/jeeves/state}
      - {name: clients-spec, mountPath: /var/run/jeeves/clients-spec, readOnly: true}
      - {name: client-secrets, mountPath: /var/run/jeeves/client-secrets, readOnly: true}
  {{- end }}
{{- end }}
{{- end -}}

{{- define "jeeves.tokens.mounts" -}}
{{- $block := index .Values "jeeves-tokens" -}}
{{- if or (include "jeeves.tokens.generatedKey" .) (not $block.clientRegistry.existingSecret) }}
- {name: state, mountPath: /var/run/jeeves/state, readOnly: true}
{{- end }}
{{- if not (include "jeeves.tokens.generatedKey" .) }}
- {name: keys, mountPath: /var/run/jeeves/keys, readOnly: true}
{{- end }}
{{- if $block.clientRegistry.existingSecret }}
- {name: clients, mountPath: /var/run/jeeves/clients, readOnly: true}
{{- end }}
{{- end -}}

{{- define "jeeves.tokens.volumes" -}}
{{- $block := index .Values "jeeves-tokens" -}}
{{- if or (include "jeeves.tokens.generatedKey" .) (not $block.clientRegistry.existingSecret) }}
- name: state
  emptyDir: {medium: Memory, sizeLimit: 1Mi}
{{- end }}
{{- if include "jeeves.tokens.generatedKey" . }}
- name: signing-key
  secret: {secretName: jeeves-tokens-key, defaultMode: 0440}
{{- else }}
- name: keys
  secret: {secretName: {{ $block.signingKeys.existingSecret | default "jeeves-tokens-keys" }}, defaultMode: 0440}
{{- end }}
{{- if $block.clientRegistry.existingSecret }}
- name: clients
  secret:
    secretName: {{ $block.clientRegistry.existingSecret }}
    defaultMode: 0440
    items: [{key: clients.json, path: clients.json}]
{{- else }}
- name: clients-spec
  configMap: {name: jeeves-tokens-clients}
- name: client-secrets
  projected:
    defaultMode: 0440
    sources:
      {{- range $id := keys (include "jeeves.clients" . | fromJson) | sortAlpha }}
      - secret:
          name: jeeves-{{ $id }}-auth
          items: [{key: client-secret, path: {{ $id }}}]
      {{- end }}
{{- end }}
{{- end -}}
