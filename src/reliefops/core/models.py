"""Users' roles and scopes, API tokens and the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reliefops.core.roles import Role


class UserProfile(models.Model):
    """A user's role, organisation and scope (hubs, distribution points)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(max_length=32, choices=[(r.value, r.label) for r in Role], default=Role.VIEWER)
    organisation = models.ForeignKey(
        "partners.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    hubs = models.ManyToManyField("places.Site", blank=True, related_name="hub_managers")
    distribution_points = models.ManyToManyField("places.Site", blank=True, related_name="distributors")
    can_export_personal_data = models.BooleanField(
        default=False, help_text="A separate right, granted per user, to export households' personal data."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="userprofile_role_known"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class ApiToken(models.Model):
    """An API token. Only a SHA-256 hash is stored; the token is shown once, at creation. It works
    until it is revoked or it expires, whichever comes first."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        help_text="the token stops working at this moment; issued for 1 to 365 days (90 unless asked)"
    )

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class AuditEvent(models.Model):
    """Who did what to which object, with the state before and after. Never updated or deleted."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, help_text="username, or 'system' for loaders")
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id"])]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"
        )


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


# The stage of a failed job that a service refused (a file's problems, a rule such as a locked
# month): nothing was written and nothing went wrong on the server, unlike a job that stopped.
JOB_REFUSED = "refused"


class Job(models.Model):
    """A long piece of work (an import, a duplicate search) run by the worker, and its progress.

    The web page polls this row; `core.jobs` writes it. The result is a small summary with links to
    the pages that show the work's outcome; a failed job keeps the error with its problems.
    """

    kind = models.CharField(
        max_length=64, db_index=True, help_text="what runs, e.g. household_import_preview"
    )
    label = models.CharField(max_length=200, help_text="what the owner sees, e.g. 'Check of villages.csv'")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs")
    right = models.CharField(max_length=32, help_text="the right needed to see the job's result")
    key = models.CharField(
        max_length=100, blank=True, help_text="one job per owner and key: a repeat returns it"
    )
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    stage = models.CharField(max_length=200, blank=True, help_text="what the job is doing now")
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(default=0, help_text="0 while the amount of work is unknown")
    params = models.JSONField(default=dict, blank=True)
    input = models.BinaryField(blank=True, default=b"", help_text="the uploaded file, cleared when done")
    input_name = models.CharField(max_length=200, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    problems = models.JSONField(default=list, blank=True, help_text="[{row, field, reason}] of a refusal")
    task_id = models.CharField(max_length=64, blank=True, db_index=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker running it")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in JobStatus]), name="job_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(total=0) | models.Q(done__lte=models.F("total")),
                name="job_done_within_total",
            ),
            models.UniqueConstraint(
                fields=["owner", "key"], condition=~models.Q(key=""), name="job_one_per_owner_key"
            ),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat")]

    def __str__(self) -> str:
        return f"job {self.pk} {self.kind} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in {JobStatus.SUCCEEDED, JobStatus.FAILED}

    @property
    def refused(self) -> bool:
        """Failed because what it was given was refused, not because the work broke."""
        return self.status == JobStatus.FAILED and self.stage == JOB_REFUSED

    @property
    def status_label(self) -> str:
        """Its status in words, a refusal told apart from a failure."""
        return "Refused" if self.refused else str(self.get_status_display())

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, self.done * 100 // self.total)
