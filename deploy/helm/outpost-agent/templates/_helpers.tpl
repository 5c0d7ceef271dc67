{{/* Names and labels. */}}
{{- define "outpost-agent.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "outpost-agent.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "outpost-agent.selectorLabels" -}}
app.kubernetes.io/name: {{ include "outpost-agent.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "outpost-agent.labels" -}}
{{ include "outpost-agent.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: outpost
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "outpost-agent.tokenSecret" -}}
{{- default (printf "%s-token" (include "outpost-agent.fullname" .)) .Values.token.existingSecret -}}
{{- end -}}

{{/* A Go duration-like agent value ("30s", "1m", "500ms") in whole seconds, rounded up. */}}
{{- define "outpost-agent.seconds" -}}
{{- $m := regexFindAll "^([0-9]+)(ms|s|m|h)$" (toString .) 1 -}}
{{- if not $m -}}
{{- fail (printf "agent.shutdownGrace %q: use a number with ms, s, m or h (e.g. 30s)" (toString .)) -}}
{{- end -}}
{{- $n := int (regexReplaceAll "[a-z]+$" (toString .) "") -}}
{{- $unit := regexReplaceAll "^[0-9]+" (toString .) "" -}}
{{- if eq $unit "ms" -}}{{ div (add $n 999) 1000 }}{{- else if eq $unit "s" -}}{{ $n }}{{- else if eq $unit "m" -}}{{ mul $n 60 }}{{- else -}}{{ mul $n 3600 }}{{- end -}}
{{- end -}}

{{/* Checks that cannot be expressed in values.schema.json. */}}
{{- define "outpost-agent.validate" -}}
{{- $v := .Values -}}
{{- if not $v.url -}}
{{- fail "url is required: the control plane API URL, e.g. --set url=https://tenant.example.com/api" -}}
{{- end -}}
{{- if eq $v.workload "StatefulSet" -}}
{{- if and (not $v.token.existingSecret) (not $v.token.values) -}}
{{- fail "workload StatefulSet needs a token per replica: set token.existingSecret (keys = pod names) or token.values" -}}
{{- end -}}
{{- if and $v.token.values (not $v.token.existingSecret) -}}
{{- range $i := until (int $v.replicaCount) -}}
{{- $pod := printf "%s-%d" (include "outpost-agent.fullname" $) $i -}}
{{- if not (hasKey $v.token.values $pod) -}}
{{- fail (printf "token.values has no token for pod %s (one key per replica, named after the pod)" $pod) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if $v.autoscaling.enabled -}}
{{- fail "autoscaling.enabled with workload StatefulSet: each new replica needs its own token first; scale by hand (set autoscaling.enabled=false)" -}}
{{- end -}}
{{- else -}}
{{- if and (not $v.token.existingSecret) (not $v.token.value) -}}
{{- fail "no agent token: set token.existingSecret (recommended) or token.value" -}}
{{- end -}}
{{- end -}}
{{- $grace := include "outpost-agent.seconds" $v.agent.shutdownGrace | int -}}
{{- if le (int $v.terminationGracePeriodSeconds) $grace -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be above agent.shutdownGrace (%ds), or Kubernetes kills running jobs" (int $v.terminationGracePeriodSeconds) $grace) -}}
{{- end -}}
{{- end -}}

{{/* The agent's arguments: one --option=value per value that is set. */}}
{{- define "outpost-agent.args" -}}
{{- $a := .Values.agent -}}
{{- if eq .Values.workload "StatefulSet" }}
- "--token-file=/var/run/secrets/outpost/$(POD_NAME)"
{{- else }}
- {{ printf "--token-file=/var/run/secrets/outpost/%s" .Values.token.key | quote }}
{{- end }}
- {{ printf "--url=%v" (.Values.url) | quote }}
- {{ printf "--health-addr=0.0.0.0:%d" (int64 $a.healthPort) | quote }}
- {{ printf "--shutdown-grace=%v" ($a.shutdownGrace) | quote }}
{{- with $a.logLevel }}
- {{ printf "--log-level=%v" (.) | quote }}
{{- end }}
{{- with $a.logFormat }}
- {{ printf "--log-format=%v" (.) | quote }}
{{- end }}
{{- with $a.healthInterval }}
- {{ printf "--health-interval=%v" (.) | quote }}
{{- end }}
{{- if not (kindIs "invalid" $a.maxConcurrency) }}
- {{ printf "--max-concurrency=%d" (int64 $a.maxConcurrency) | quote }}
{{- end }}
{{- if not (kindIs "invalid" $a.maxRate) }}
{{- if eq (float64 $a.maxRate) (float64 (int64 $a.maxRate)) }}
- {{ printf "--max-rate=%d" (int64 $a.maxRate) | quote }}
{{- else }}
- {{ printf "--max-rate=%v" $a.maxRate | quote }}
{{- end }}
{{- end }}
{{- if not (kindIs "invalid" $a.maxPerSource) }}
- {{ printf "--max-per-source=%d" (int64 $a.maxPerSource) | quote }}
{{- end }}
{{- with $a.jobTimeout }}
- {{ printf "--job-timeout=%v" (.) | quote }}
{{- end }}
{{- with $a.backoffStrategy }}
- {{ printf "--backoff-strategy=%v" (.) | quote }}
{{- end }}
{{- with $a.backoffCap }}
- {{ printf "--backoff-cap=%v" (.) | quote }}
{{- end }}
{{- if not (kindIs "invalid" $a.maxRetries) }}
- {{ printf "--max-retries=%d" (int64 $a.maxRetries) | quote }}
{{- end }}
{{- if not (kindIs "invalid" $a.maxResultRows) }}
- {{ printf "--max-result-rows=%d" (int64 $a.maxResultRows) | quote }}
{{- end }}
{{- with $a.maxResultBytes }}
- {{ printf "--max-result-bytes=%v" (.) | quote }}
{{- end }}
{{- with $a.allowHosts }}
- {{ printf "--allow-hosts=%v" (join "," .) | quote }}
{{- end }}
{{- if $a.requireSecretRefs }}
- --require-secret-refs
{{- end }}
{{- if $a.allowInsecureHttp }}
- --allow-insecure-http
{{- end }}
{{- with $a.proxy }}
- {{ printf "--proxy=%v" (.) | quote }}
{{- end }}
{{- if or $a.caBundle $a.caBundleConfigMap }}
- "--ca-file=/etc/outpost/ca/ca.crt"
{{- end }}
{{- if $a.clientCertSecret }}
- "--client-cert=/etc/outpost/client-tls/tls.crt"
- "--client-key=/etc/outpost/client-tls/tls.key"
{{- end }}
{{- if or $a.sourcesFile.content $a.sourcesFile.existingSecret }}
- "--sources-file=/etc/outpost/sources/sources.yaml"
{{- end }}
{{- if $a.auditLog.enabled }}
- "--audit-log=/var/lib/outpost/audit/audit.jsonl"
{{- end }}
{{- with .Values.extraArgs }}
{{ toYaml . }}
{{- end }}
{{- end -}}
