{{/* Prefix of every object (REANA_COMPONENT_PREFIX). */}}
{{- define "reana.prefix" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 30 | trimSuffix "-" -}}
{{- end -}}

{{/* Namespace of runs and jobs. */}}
{{- define "reana.runtimeNamespace" -}}
{{- default .Release.Namespace .Values.namespace_runtime -}}
{{- end -}}

{{- define "reana.labels" -}}
app.kubernetes.io/name: reana
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* "k=v,k2=v2" as a nodeSelector block. */}}
{{- define "reana.nodeSelector" -}}
{{- if . }}
nodeSelector:
{{- range (splitList "," .) }}
{{- $pair := splitList "=" . }}
  {{ index $pair 0 | trim }}: {{ index $pair 1 | trim | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Environment every platform container shares: database, broker, storage, secret key. */}}
{{- define "reana.commonEnv" -}}
{{- $prefix := include "reana.prefix" . -}}
- name: REANA_COMPONENT_PREFIX
  value: {{ $prefix | quote }}
- name: REANA_DB_HOST
  value: {{ .Values.components.reana_db.enabled | ternary (printf "%s-db.%s.svc" $prefix .Release.Namespace) .Values.db_env_config.REANA_DB_HOST | quote }}
- name: REANA_DB_PORT
  value: {{ .Values.db_env_config.REANA_DB_PORT | default "5432" | quote }}
- name: REANA_DB_NAME
  value: {{ .Values.db_env_config.REANA_DB_NAME | default "reana" | quote }}
- name: REANA_DB_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $prefix }}-db-secrets
      key: user
- name: REANA_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $prefix }}-db-secrets
      key: password
- name: RABBIT_MQ_HOST
  value: {{ .Values.components.reana_message_broker.enabled | ternary (printf "%s-message-broker.%s.svc" $prefix .Release.Namespace) .Values.message_broker_env_config.RABBIT_MQ_HOST | quote }}
- name: RABBIT_MQ_PORT
  value: {{ .Values.message_broker_env_config.RABBIT_MQ_PORT | default "5672" | quote }}
- name: RABBIT_MQ_USER
  valueFrom:
    secretKeyRef:
      name: {{ $prefix }}-message-broker-secrets
      key: user
- name: RABBIT_MQ_PASS
  valueFrom:
    secretKeyRef:
      name: {{ $prefix }}-message-broker-secrets
      key: password
- name: REANA_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $prefix }}-secrets
      key: REANA_SECRET_KEY
- name: SHARED_VOLUME_PATH
  value: {{ .Values.shared_storage.shared_volume_mount_path | quote }}
- name: REANA_STORAGE_BACKEND
  value: {{ eq .Values.shared_storage.backend "hostpath" | ternary "local" "network" | quote }}
- name: REANA_SHARED_PVC_NAME
  value: {{ printf "%s-shared-persistent-volume" $prefix | quote }}
- name: REANA_WORKFLOW_CONTROLLER_URL
  value: {{ printf "http://%s-workflow-controller.%s.svc" $prefix .Release.Namespace | quote }}
- name: REANA_COMPUTE_BACKENDS
  value: {{ .Values.compute_backends | toJson | quote }}
- name: REANA_DEFAULT_COMPUTE_BACKEND
  value: {{ first .Values.compute_backends | quote }}
- name: REANA_MAX_CONCURRENT_BATCH_WORKFLOWS
  value: {{ .Values.reana_max_concurrent_batch_workflows | quote }}
- name: REANA_DEFAULT_QUOTA_CPU_LIMIT
  value: {{ .Values.quota.default_cpu_limit | quote }}
- name: REANA_DEFAULT_QUOTA_DISK_LIMIT
  value: {{ .Values.quota.default_disk_limit | quote }}
- name: REANA_WORKFLOW_TERMINATION_QUOTA_UPDATE_POLICY
  value: {{ .Values.quota.enabled | ternary .Values.quota.workflow_termination_update_policy "" | quote }}
- name: REANA_KUBERNETES_JOBS_MEMORY_LIMIT
  value: {{ .Values.kubernetes_jobs_memory_limit | quote }}
- name: REANA_KUBERNETES_JOBS_MEMORY_REQUEST
  value: {{ .Values.kubernetes_jobs_memory_request | quote }}
- name: REANA_KUBERNETES_JOBS_CPU_LIMIT
  value: {{ .Values.kubernetes_jobs_cpu_limit | quote }}
- name: REANA_KUBERNETES_JOBS_CPU_REQUEST
  value: {{ .Values.kubernetes_jobs_cpu_request | quote }}
- name: REANA_KUBERNETES_JOBS_TIMEOUT_LIMIT
  value: {{ .Values.kubernetes_jobs_timeout_limit | quote }}
- name: REANA_KUBERNETES_JOBS_MAX_USER_TIMEOUT_LIMIT
  value: {{ .Values.kubernetes_jobs_max_user_timeout_limit | quote }}
{{- end -}}

{{/* The shared workspace volume (hostPath or the shared PVC). */}}
{{- define "reana.sharedVolume" -}}
- name: reana-shared-volume
{{- if eq .Values.shared_storage.backend "hostpath" }}
  hostPath:
    path: {{ .Values.shared_storage.hostpath.root_path }}
    type: DirectoryOrCreate
{{- else }}
  persistentVolumeClaim:
    claimName: {{ include "reana.prefix" . }}-shared-persistent-volume
{{- end }}
{{- end -}}

{{/* Settings of the run manager and of the runs it creates. */}}
{{- define "reana.controllerEnv" -}}
- name: REANA_RUNTIME
  value: kubernetes
- name: REANA_RUNTIME_KUBERNETES_NAMESPACE
  value: {{ include "reana.runtimeNamespace" . | quote }}
- name: REANA_RUNTIME_KUBERNETES_SERVICEACCOUNT_NAME
  value: {{ printf "%s-runtime" (include "reana.prefix" .) | quote }}
- name: REANA_RUNTIME_BATCH_KUBERNETES_NODE_LABEL
  value: {{ .Values.node_label_runtimebatch | quote }}
- name: REANA_RUNTIME_JOBS_KUBERNETES_NODE_LABEL
  value: {{ .Values.node_label_runtimejobs | quote }}
- name: REANA_KUBERNETES_JOBS_UNSCHEDULABLE_TIMEOUT
  value: {{ .Values.kubernetes_jobs_unschedulable_timeout | quote }}
- name: REANA_WORKFLOW_ENGINE_IMAGE_SERIAL
  value: {{ .Values.components.reana_workflow_engine_serial.image | quote }}
- name: REANA_WORKFLOW_ENGINE_IMAGE_SNAKEMAKE
  value: {{ .Values.components.reana_workflow_engine_snakemake.image | quote }}
- name: REANA_JOB_CONTROLLER_IMAGE
  value: {{ .Values.components.reana_job_controller.image | quote }}
- name: WORKFLOW_RUNTIME_USER_UID
  value: {{ .Values.workflow_runtime.uid | quote }}
- name: WORKFLOW_RUNTIME_USER_GID
  value: {{ .Values.workflow_runtime.gid | quote }}
- name: IMAGE_PULL_SECRETS
  value: {{ join "," .Values.image_pull_secrets | quote }}
{{- if .Values.slurm.hostname }}
- name: SLURM_HOSTNAME
  value: {{ .Values.slurm.hostname | quote }}
- name: SLURM_CLUSTER_PORT
  value: {{ .Values.slurm.cluster_port | quote }}
- name: SLURM_PARTITION
  value: {{ .Values.slurm.partition | quote }}
- name: SLURM_JOB_TIMELIMIT
  value: {{ .Values.slurm.job_timelimit | quote }}
- name: REANA_SLURM_REMOTE_WORKDIR
  value: {{ .Values.slurm.remote_workdir | quote }}
{{- end }}
{{- end -}}

{{/* Prometheus multiprocess directory (docs/adr/0027): an emptyDir shared by a pod's containers. */}}
{{- define "reana.metricsEnv" -}}
{{- if .Values.metrics.enabled }}
- name: PROMETHEUS_MULTIPROC_DIR
  value: /var/run/reana-metrics
{{- end }}
{{- end }}

{{- define "reana.metricsMount" -}}
{{- if .Values.metrics.enabled }}
- name: metrics
  mountPath: /var/run/reana-metrics
{{- end }}
{{- end }}
