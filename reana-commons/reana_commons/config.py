"""Platform configuration, read from the environment in this one module.

Every service reads its settings through :func:`get_config`. Variable names are
REANA 0.9's wherever REANA has one (INTERNALS.md §8). Without any variable set,
the platform runs on the *embedded* profile: a SQLite database and a kombu
transport backed by a SQLite file, both under ``REANA_HOME`` (default
``./.reana``), so a laptop needs no server.

Tests and tools that change the environment call :func:`reset_config` so the
next :func:`get_config` reads it again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

WORKFLOW_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
"""REANA's time format on the wire: naive UTC, no fraction, no zone."""

REANA_VERSION = "0.9.4"
"""Server version reported to clients (REANA 0.9 compatible)."""

WORKFLOW_SUBMISSION_QUEUE = "workflow-submission"
JOBS_STATUS_QUEUE = "jobs-status"
MQ_MAX_PRIORITY = 100

DEV_SECRET_KEY = "reana-embedded-dev-secret-key-change-me"


def _env(environ, name, default=None):
    value = environ.get(name)
    return default if value in (None, "") else value


def _int(environ, name, default):
    return int(_env(environ, name, default))


def _float(environ, name, default):
    return float(_env(environ, name, default))


def _bool(environ, name, default):
    value = _env(environ, name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _json(environ, name, default):
    value = _env(environ, name)
    return default if value is None else json.loads(value)


def _list(environ, name) -> tuple[str, ...]:
    """A comma- or space-separated list."""
    return tuple(item for item in _env(environ, name, "").replace(",", " ").split() if item)


SECRET_KEY_FILE = "secret-key"
"""Where ``make up`` keeps the platform's secret key inside ``REANA_HOME`` (mode 0600)."""


def _secret_key(environ, home: Path) -> str:
    """``REANA_SECRET_KEY``, else the key file in ``REANA_HOME``, else the development key."""
    key = _env(environ, "REANA_SECRET_KEY")
    if key:
        return key
    try:
        key = (home / SECRET_KEY_FILE).read_text().strip()
    except OSError:
        key = ""
    return key or DEV_SECRET_KEY


def _database_uri(environ, home: Path) -> str:
    uri = _env(environ, "REANA_SQLALCHEMY_DATABASE_URI")
    if uri:
        # SQLAlchemy 2.x may map plain postgresql:// to psycopg 3; we ship psycopg2.
        if uri.startswith("postgresql://") or uri.startswith("postgres://"):
            uri = "postgresql+psycopg2://" + uri.split("://", 1)[1]
        return uri
    if _env(environ, "REANA_DB_HOST"):
        return "postgresql+psycopg2://{u}:{p}@{h}:{port}/{n}".format(
            u=_env(environ, "REANA_DB_USERNAME", "reana"),
            p=_env(environ, "REANA_DB_PASSWORD", "reana"),
            h=_env(environ, "REANA_DB_HOST"),
            port=_env(environ, "REANA_DB_PORT", "5432"),
            n=_env(environ, "REANA_DB_NAME", "reana"),
        )
    return f"sqlite:///{home / 'reana.db'}"


def _broker_url(environ, home: Path) -> str:
    url = _env(environ, "RABBIT_MQ")
    if url:
        return url
    if _env(environ, "RABBIT_MQ_HOST"):
        return "amqp://{u}:{p}@{h}:{port}//".format(
            u=_env(environ, "RABBIT_MQ_USER", "test"),
            p=_env(environ, "RABBIT_MQ_PASS", "1234"),
            h=_env(environ, "RABBIT_MQ_HOST"),
            port=_env(environ, "RABBIT_MQ_PORT", "5672"),
        )
    return f"sqla+sqlite:///{home / 'broker.db'}"


@dataclass(frozen=True)
class Config:
    """All settings of the platform; build it with :func:`load_config`."""

    JOB_CONTROLLER_SETTINGS: ClassVar[tuple[str, ...]] = (
        "REANA_COMPUTE_BACKENDS", "COMPUTE_BACKENDS", "REANA_DEFAULT_COMPUTE_BACKEND",
        "REANA_KUBERNETES_JOBS_", "REANA_RUNTIME_JOBS_KUBERNETES_NODE_LABEL",
        "REANA_RUNTIME_KUBERNETES_KEEP_ALIVE_JOBS_WITH_STATUSES", "REANA_STORAGE_BACKEND",
        "REANA_SHARED_PVC_NAME", "REANA_USER_SECRET_MOUNT_PATH", "WORKFLOW_RUNTIME_USER_",
        "IMAGE_PULL_SECRETS", "REANA_LOCAL_JOB_", "SLURM_", "REANA_SLURM_",
        "HTCONDOR_", "REANA_HTCONDOR_",
        "REANA_LIVE_LOG_INTERVAL",
    )
    """The settings a run's job controller reads (environment names; one ending in ``_``
    is a prefix: every Slurm setting, every Kubernetes jobs limit). A run manager that
    starts job controllers elsewhere forwards those set here
    (:func:`job_controller_settings`): add a job controller's setting below, and its
    name (or prefix) here."""

    home: Path
    database_uri: str
    broker_url: str
    queue_prefix: str
    shared_volume_path: Path
    secret_key: str
    component_prefix: str = "reana"
    max_concurrent_batch_workflows: int = 30
    scheduler_requeue_count: float = 200
    scheduler_retry_delay: float = 0.5
    scheduling_policy: str = "fifo"
    default_quota_cpu_limit: int = 0
    default_quota_disk_limit: int = 0
    workflow_termination_quota_update_policy: tuple[str, ...] = ("cpu", "disk")
    workspace_retention_period: str = "forever"
    compute_backends: tuple[str, ...] = ("local",)
    default_compute_backend: str = "local"
    runtime: str = "local"
    container_runtime: str = ""
    server_url: str = "http://127.0.0.1:30080"
    workflow_controller_url: str = "http://127.0.0.1:30081"
    job_status_consumer_prefetch: int = 1000
    reconcile_interval: float = 2.0
    reconcile_grace: float = 10.0
    job_controller_start_timeout: float = 300.0
    polling_interval: float = 0.05
    log_level: str = "INFO"
    pool_size: int = 5
    max_overflow: int = 10
    pool_recycle: int = 3600
    pool_timeout: int = 30
    pool_pre_ping: bool = True
    kubernetes_jobs_timeout_limit: str = "604800"
    kubernetes_jobs_max_user_timeout_limit: str = "1209600"
    kubernetes_memory_limit: str | None = None
    kubernetes_cpu_limit: str | None = None
    user_secret_mount_path: str = "/etc/reana/secrets"
    # Isolation of local-backend jobs (reana_job_controller.job_managers.sandbox)
    local_job_isolation: str = "bwrap"
    local_job_network: str = "none"
    local_job_readonly_paths: tuple[str, ...] = ()
    local_job_uid: int = 65530
    local_job_gid: int = 65530
    # Slurm backend (REANA's names; empty hostname = sbatch on this host)
    slurm_hostname: str = ""
    slurm_cluster_port: int = 22
    slurm_partition: str = ""
    slurm_job_timelimit: str = ""
    slurm_ssh_timeout: float = 60
    slurm_ssh_banner_timeout: float = 60
    slurm_ssh_auth_timeout: float = 60
    slurm_monitor_interval: float = 2.0
    slurm_shared_file_system: bool = True
    slurm_remote_workdir: str = "reana"
    # HTCondor backend (empty hostname = condor_submit on this host, a submit node)
    htcondor_hostname: str = ""
    htcondor_cluster_port: int = 22
    htcondor_ssh_timeout: float = 60
    htcondor_monitor_interval: float = 2.0
    htcondor_shared_file_system: bool = True
    htcondor_remote_workdir: str = "reana"
    htcondor_should_transfer_files: bool = True
    htcondor_kerberos_realm: str = "CERN.CH"
    # Kubernetes runtime and backend (REANA's names; see reana_commons.k8s)
    kubeconfig: str = ""
    kubernetes_service_host: str = ""
    runtime_kubernetes_namespace: str = "default"
    runtime_kubernetes_serviceaccount_name: str = ""
    runtime_batch_termination_grace_period: int = 120
    runtime_batch_node_label: str = ""
    runtime_jobs_node_label: str = ""
    runtime_keep_alive_jobs_with_statuses: tuple[str, ...] = ()
    storage_backend: str = "local"
    shared_pvc_name: str = "reana-shared-persistent-volume"
    workflow_engine_image_serial: str = "reana/reana-workflow-engine-serial:0.9.6"
    workflow_engine_image_cwl: str = "reana/reana-workflow-engine-cwl:0.9.6"
    workflow_engine_image_snakemake: str = "reana/reana-workflow-engine-snakemake:0.9.6"
    workflow_engine_image_yadage: str = "reana/reana-workflow-engine-yadage:0.9.6"
    job_controller_image: str = "reana/reana-job-controller:0.9.6"
    job_controller_port: int = 5000
    secrets_name: str = "reana-secrets"
    workflow_runtime_user_uid: int = 1000
    workflow_runtime_user_gid: int = 0
    kubernetes_memory_request: str | None = None
    kubernetes_cpu_request: str | None = None
    kubernetes_unschedulable_timeout: float = 600.0
    kubernetes_watch_timeout: int = 300
    image_pull_secrets: tuple[str, ...] = ()
    # Launching from a URL (reana-server's guard against server-side request forgery)
    launch_allowed_hosts: tuple[str, ...] = ()
    launch_allowed_networks: tuple[str, ...] = ()
    launch_max_bytes: int = 1024**3
    launch_timeout: float = 120.0
    # What one request may ask for (beyond it: a 400 that names the setting)
    max_request_body_bytes: int = 10 * 1024**2
    max_secrets_per_user: int = 200
    max_log_steps_filter: int = 200
    max_log_bytes_per_job: int = 1024**2
    # Per-user API rate limits (limits' notation, REANA's names) and queued runs per user
    ratelimit_enabled: bool = True
    ratelimit_authenticated_user: str = "80 per second"
    ratelimit_guest_user: str = "40 per second"
    ratelimit_users: dict = field(default_factory=dict)
    max_queued_workflows_per_user: int = 1000
    live_log_interval: float = 0.5
    """Seconds between two copies of a running job's new output into its live log file."""
    local_users: bool = True
    """The web UI's email + password accounts (``/api/login``, ``/api/register``)."""
    hide_signup: bool = False
    session_cookie_secure: bool = False
    """Send the web UI's session cookie over HTTPS only (set it behind TLS)."""
    session_lifetime_hours: float = 12.0
    extra: dict = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_uri.startswith("sqlite")

    @property
    def has_secret_key(self) -> bool:
        """Whether a real key is configured (not the development key everyone knows)."""
        return self.secret_key != DEV_SECRET_KEY

    @property
    def is_embedded_broker(self) -> bool:
        return not self.broker_url.startswith(("amqp", "pyamqp"))

    def queue_name(self, base: str) -> str:
        """Queue name with this deployment's prefix (tests isolate themselves with it)."""
        return f"{self.queue_prefix}{base}"


def job_controller_settings(environ=None) -> dict[str, str]:
    """The settings of :attr:`Config.JOB_CONTROLLER_SETTINGS` set in ``environ`` (default:
    this process's environment), to forward to a run's job controller."""
    environ = os.environ if environ is None else environ
    rules = Config.JOB_CONTROLLER_SETTINGS
    return {
        name: value
        for name, value in sorted(environ.items())
        if value != "" and any(
            name == rule or (rule.endswith("_") and name.startswith(rule)) for rule in rules)
    }


def load_config(environ=None) -> Config:
    """Read the configuration from ``environ`` (default: ``os.environ``)."""
    environ = os.environ if environ is None else environ
    home = Path(_env(environ, "REANA_HOME", ".reana")).expanduser().resolve()
    shared = Path(_env(environ, "SHARED_VOLUME_PATH", str(home / "shared"))).expanduser()
    backends = _env(environ, "REANA_COMPUTE_BACKENDS") or _env(  # RJC's own name (comma list)
        environ, "COMPUTE_BACKENDS", '["local"]')
    backends = json.loads(backends) if backends.startswith("[") else backends.split(",")
    policy = _env(environ, "REANA_WORKFLOW_TERMINATION_QUOTA_UPDATE_POLICY", "cpu,disk")
    return Config(
        home=home,
        database_uri=_database_uri(environ, home),
        broker_url=_broker_url(environ, home),
        queue_prefix=_env(environ, "REANA_QUEUE_PREFIX", ""),
        shared_volume_path=shared.resolve(),
        secret_key=_secret_key(environ, home),
        component_prefix=_env(environ, "REANA_COMPONENT_PREFIX", "reana"),
        max_concurrent_batch_workflows=_int(environ, "REANA_MAX_CONCURRENT_BATCH_WORKFLOWS", 30),
        scheduler_requeue_count=_float(environ, "REANA_SCHEDULER_REQUEUE_COUNT", 200),
        scheduler_retry_delay=_float(environ, "REANA_SCHEDULER_REQUEUE_SLEEP", 0.5),
        scheduling_policy=_env(environ, "REANA_WORKFLOW_SCHEDULING_POLICY", "fifo"),
        default_quota_cpu_limit=_int(environ, "REANA_DEFAULT_QUOTA_CPU_LIMIT", 0),
        default_quota_disk_limit=_int(environ, "REANA_DEFAULT_QUOTA_DISK_LIMIT", 0),
        workflow_termination_quota_update_policy=tuple(
            p.strip() for p in policy.split(",") if p.strip()
        ),
        workspace_retention_period=_env(environ, "WORKSPACE_RETENTION_PERIOD", "forever"),
        compute_backends=tuple(backends),
        default_compute_backend=_env(environ, "REANA_DEFAULT_COMPUTE_BACKEND", backends[0]),
        runtime=_env(environ, "REANA_RUNTIME", "local"),
        container_runtime=_env(environ, "REANA_CONTAINER_RUNTIME", ""),
        server_url=_env(environ, "REANA_SERVER_INTERNAL_URL", "http://127.0.0.1:30080"),
        workflow_controller_url=_env(
            environ, "REANA_WORKFLOW_CONTROLLER_URL", "http://127.0.0.1:30081"
        ),
        job_status_consumer_prefetch=_int(
            environ, "REANA_JOB_STATUS_CONSUMER_PREFETCH_COUNT", 1000
        ),
        reconcile_interval=_float(environ, "REANA_RECONCILE_INTERVAL", 2.0),
        reconcile_grace=_float(environ, "REANA_RECONCILE_GRACE", 10.0),
        job_controller_start_timeout=max(
            _float(environ, "REANA_JOB_CONTROLLER_START_TIMEOUT", 300.0), 1.0),
        polling_interval=_float(environ, "POLLING_INTERVAL", 0.05),
        log_level=_env(environ, "REANA_LOG_LEVEL", "INFO"),
        pool_size=_int(environ, "SQLALCHEMY_POOL_SIZE", 5),
        max_overflow=_int(environ, "SQLALCHEMY_MAX_OVERFLOW", 10),
        pool_recycle=_int(environ, "SQLALCHEMY_POOL_RECYCLE", 3600),
        pool_timeout=_int(environ, "SQLALCHEMY_POOL_TIMEOUT", 30),
        pool_pre_ping=_bool(environ, "SQLALCHEMY_POOL_PRE_PING", True),
        kubernetes_jobs_timeout_limit=_env(
            environ, "REANA_KUBERNETES_JOBS_TIMEOUT_LIMIT", "604800"
        ),
        kubernetes_jobs_max_user_timeout_limit=_env(
            environ, "REANA_KUBERNETES_JOBS_MAX_USER_TIMEOUT_LIMIT", "1209600"
        ),
        kubernetes_memory_limit=_env(environ, "REANA_KUBERNETES_JOBS_MEMORY_LIMIT"),
        kubernetes_cpu_limit=_env(environ, "REANA_KUBERNETES_JOBS_CPU_LIMIT"),
        user_secret_mount_path=_env(
            environ, "REANA_USER_SECRET_MOUNT_PATH", "/etc/reana/secrets"
        ),
        local_job_isolation=_env(environ, "REANA_LOCAL_JOB_ISOLATION", "bwrap").strip().lower(),
        local_job_network=_env(environ, "REANA_LOCAL_JOB_NETWORK", "none").strip().lower(),
        local_job_readonly_paths=tuple(
            p for p in _env(environ, "REANA_LOCAL_JOB_READONLY_PATHS", "").split(os.pathsep) if p
        ),
        local_job_uid=_int(environ, "REANA_LOCAL_JOB_UID", 65530),
        local_job_gid=_int(environ, "REANA_LOCAL_JOB_GID", 65530),
        slurm_hostname=_env(environ, "SLURM_HOSTNAME", ""),
        slurm_cluster_port=_int(environ, "SLURM_CLUSTER_PORT", 22),
        slurm_partition=_env(environ, "SLURM_PARTITION", ""),
        slurm_job_timelimit=_env(environ, "SLURM_JOB_TIMELIMIT", ""),
        slurm_ssh_timeout=_float(environ, "SLURM_SSH_TIMEOUT", 60),
        slurm_ssh_banner_timeout=_float(environ, "SLURM_SSH_BANNER_TIMEOUT", 60),
        slurm_ssh_auth_timeout=_float(environ, "SLURM_SSH_AUTH_TIMEOUT", 60),
        slurm_monitor_interval=_float(environ, "REANA_SLURM_MONITOR_INTERVAL", 2.0),
        slurm_shared_file_system=_bool(
            environ, "REANA_SLURM_SHARED_FILE_SYSTEM", not _env(environ, "SLURM_HOSTNAME")
        ),
        slurm_remote_workdir=_env(environ, "REANA_SLURM_REMOTE_WORKDIR", "reana"),
        htcondor_hostname=_env(environ, "HTCONDOR_HOSTNAME", ""),
        htcondor_cluster_port=_int(environ, "HTCONDOR_CLUSTER_PORT", 22),
        htcondor_ssh_timeout=_float(environ, "HTCONDOR_SSH_TIMEOUT", 60),
        htcondor_monitor_interval=_float(environ, "REANA_HTCONDOR_MONITOR_INTERVAL", 2.0),
        htcondor_shared_file_system=_bool(
            environ, "REANA_HTCONDOR_SHARED_FILE_SYSTEM", not _env(environ, "HTCONDOR_HOSTNAME")
        ),
        htcondor_remote_workdir=_env(environ, "REANA_HTCONDOR_REMOTE_WORKDIR", "reana"),
        htcondor_should_transfer_files=_env(
            environ, "REANA_HTCONDOR_SHOULD_TRANSFER_FILES", "YES").upper() != "NO",
        htcondor_kerberos_realm=_env(environ, "REANA_HTCONDOR_KERBEROS_REALM", "CERN.CH"),
        kubeconfig=_env(environ, "KUBECONFIG", ""),
        kubernetes_service_host=_env(environ, "KUBERNETES_SERVICE_HOST", ""),
        runtime_kubernetes_namespace=_env(
            environ, "REANA_RUNTIME_KUBERNETES_NAMESPACE", "default"
        ),
        runtime_kubernetes_serviceaccount_name=_env(
            environ, "REANA_RUNTIME_KUBERNETES_SERVICEACCOUNT_NAME", ""
        ),
        runtime_batch_termination_grace_period=_int(
            environ, "REANA_RUNTIME_BATCH_TERMINATION_GRACE_PERIOD", 120
        ),
        runtime_batch_node_label=_env(environ, "REANA_RUNTIME_BATCH_KUBERNETES_NODE_LABEL", ""),
        runtime_jobs_node_label=_env(environ, "REANA_RUNTIME_JOBS_KUBERNETES_NODE_LABEL", ""),
        runtime_keep_alive_jobs_with_statuses=tuple(
            s.strip() for s in _env(
                environ, "REANA_RUNTIME_KUBERNETES_KEEP_ALIVE_JOBS_WITH_STATUSES", ""
            ).split(",") if s.strip()
        ),
        storage_backend=_env(environ, "REANA_STORAGE_BACKEND", "local"),
        shared_pvc_name=_env(
            environ, "REANA_SHARED_PVC_NAME",
            f"{_env(environ, 'REANA_COMPONENT_PREFIX', 'reana')}-shared-persistent-volume",
        ),
        workflow_engine_image_serial=_env(
            environ, "REANA_WORKFLOW_ENGINE_IMAGE_SERIAL",
            "reana/reana-workflow-engine-serial:0.9.6",
        ),
        workflow_engine_image_cwl=_env(
            environ, "REANA_WORKFLOW_ENGINE_IMAGE_CWL", "reana/reana-workflow-engine-cwl:0.9.6",
        ),
        workflow_engine_image_snakemake=_env(
            environ, "REANA_WORKFLOW_ENGINE_IMAGE_SNAKEMAKE",
            "reana/reana-workflow-engine-snakemake:0.9.6",
        ),
        workflow_engine_image_yadage=_env(
            environ, "REANA_WORKFLOW_ENGINE_IMAGE_YADAGE",
            "reana/reana-workflow-engine-yadage:0.9.6",
        ),
        job_controller_image=_env(
            environ, "REANA_JOB_CONTROLLER_IMAGE", "reana/reana-job-controller:0.9.6"
        ),
        job_controller_port=_int(environ, "REANA_JOB_CONTROLLER_SERVICE_PORT_HTTP", 5000),
        secrets_name=_env(
            environ, "REANA_SECRETS_NAME",
            f"{_env(environ, 'REANA_COMPONENT_PREFIX', 'reana')}-secrets",
        ),
        workflow_runtime_user_uid=_int(environ, "WORKFLOW_RUNTIME_USER_UID", 1000),
        workflow_runtime_user_gid=_int(environ, "WORKFLOW_RUNTIME_USER_GID", 0),
        kubernetes_memory_request=_env(environ, "REANA_KUBERNETES_JOBS_MEMORY_REQUEST"),
        kubernetes_cpu_request=_env(environ, "REANA_KUBERNETES_JOBS_CPU_REQUEST"),
        kubernetes_unschedulable_timeout=_float(
            environ, "REANA_KUBERNETES_JOBS_UNSCHEDULABLE_TIMEOUT", 600.0
        ),
        kubernetes_watch_timeout=_int(environ, "REANA_KUBERNETES_WATCH_TIMEOUT", 300),
        image_pull_secrets=tuple(
            s.strip() for s in _env(environ, "IMAGE_PULL_SECRETS", "").split(",") if s.strip()
        ),
        launch_allowed_hosts=_list(environ, "REANA_LAUNCH_ALLOWED_HOSTS"),
        launch_allowed_networks=_list(environ, "REANA_LAUNCH_ALLOWED_NETWORKS"),
        launch_max_bytes=_int(environ, "REANA_LAUNCH_MAX_BYTES", 1024**3),
        launch_timeout=_float(environ, "REANA_LAUNCH_TIMEOUT", 120.0),
        max_request_body_bytes=_int(environ, "REANA_MAX_REQUEST_BODY_BYTES", 10 * 1024**2),
        max_secrets_per_user=_int(environ, "REANA_MAX_SECRETS_PER_USER", 200),
        max_log_steps_filter=_int(environ, "REANA_MAX_LOG_STEPS_FILTER", 200),
        max_log_bytes_per_job=_int(environ, "REANA_MAX_LOG_BYTES_PER_JOB", 1024**2),
        ratelimit_enabled=_bool(environ, "REANA_RATELIMIT_ENABLED", True),
        ratelimit_authenticated_user=_env(environ, "REANA_RATELIMIT_AUTHENTICATED_USER",
                                          "80 per second"),
        ratelimit_guest_user=_env(environ, "REANA_RATELIMIT_GUEST_USER", "40 per second"),
        ratelimit_users=_json(environ, "REANA_RATELIMIT_USERS", {}),
        max_queued_workflows_per_user=_int(environ, "REANA_MAX_QUEUED_WORKFLOWS_PER_USER", 1000),
        live_log_interval=max(_float(environ, "REANA_LIVE_LOG_INTERVAL", 0.5), 0.05),
        local_users=_bool(environ, "REANA_LOCAL_USERS", True),
        hide_signup=_bool(environ, "REANA_HIDE_SIGNUP", False),
        session_cookie_secure=_bool(environ, "REANA_SESSION_COOKIE_SECURE", False),
        session_lifetime_hours=_float(environ, "REANA_SESSION_LIFETIME_HOURS", 12.0),
        extra=_json(environ, "REANA_EXTRA_CONFIG", {}),
    )


@lru_cache(maxsize=1)
def get_config() -> Config:
    """The process-wide configuration, read once from ``os.environ``."""
    return load_config()


JOB_SECRETS_FOLDER = "secrets"
"""The folder of a job controller's folder holding the owner's decrypted file secrets."""


def job_controller_dir(workflow_uuid, config: Config | None = None) -> Path:
    """A run's job-controller folder on this host (its logs, the owner's file secrets)."""
    return (config or get_config()).home / "run" / str(workflow_uuid)


def reset_config() -> None:
    """Forget the cached configuration (after the environment changed)."""
    get_config.cache_clear()
