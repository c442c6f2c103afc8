from django.apps import AppConfig


class ClusterConfig(AppConfig):
    name = "reliefops.cluster"
    label = "cluster"
    verbose_name = "Cluster coordination (4W)"

    def ready(self) -> None:
        from reliefops.cluster import jobs
        from reliefops.core.jobs import job_sequel_register

        # A job's page says what became of an upload since: applied, reverted.
        job_sequel_register(jobs.UPLOAD_PREVIEW, jobs.upload_preview_sequel)
        job_sequel_register(jobs.UPLOAD_COMMIT, jobs.upload_commit_sequel)
