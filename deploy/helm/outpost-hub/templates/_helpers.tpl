{{/* Names and labels. */}}
{{- define "outpost-hub.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "outpost-hub.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "outpost-hub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "outpost-hub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "outpost-hub.labels" -}}
{{ include "outpost-hub.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: outpost
app.kubernetes.io/component: control-plane
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The Secret that holds the admin token and (unless store.existingSecret) the store password. */}}
{{- define "outpost-hub.secretName" -}}
{{- printf "%s-secrets" (include "outpost-hub.fullname" .) -}}
{{- end -}}

{{/* Checks that values.schema.json cannot express. */}}
{{- define "outpost-hub.validate" -}}
{{- $v := .Values -}}
{{- if not $v.store.url -}}
{{- fail "store.url is required: postgres://USER@HOST:PORT/DB (the password goes in store.existingSecret or store.password)" -}}
{{- end -}}
{{- if and (not $v.store.existingSecret) (not $v.store.password) -}}
{{- fail "no store password: set store.existingSecret (recommended) or store.password" -}}
{{- end -}}
{{- if and (not $v.adminToken.existingSecret) (not $v.adminToken.value) -}}
{{- fail "no admin token: set adminToken.existingSecret (recommended) or adminToken.value" -}}
{{- end -}}
{{- if not $v.tls.secretName -}}
{{- fail "tls.secretName is required: a kubernetes.io/tls Secret with the hub's certificate (agents only talk HTTPS)" -}}
{{- end -}}
{{- end -}}
