using Vidline.ServiceDefaults;

namespace Vidline.ProgressGateway;

/// <summary>The gateway's schema. Append new migrations; never edit one that has shipped.</summary>
public static class GatewayMigrations
{
    public static readonly IReadOnlyList<Migration> All =
    [
        new("0001_jobs_and_events", """
            CREATE TABLE jobs (
                id            uuid PRIMARY KEY,
                key           text NOT NULL DEFAULT '',
                owner         text NOT NULL DEFAULT '',
                status        text NOT NULL,
                stage         text NOT NULL DEFAULT '',
                progress      numeric(5,2) NOT NULL DEFAULT 0,
                priority      int NOT NULL DEFAULT 0,
                attempt       int NOT NULL DEFAULT 0,
                error_message text,
                result        jsonb,
                created_at    timestamptz NOT NULL,
                updated_at    timestamptz NOT NULL,
                completed_at  timestamptz,
                -- Timestamp of the JobStatusChanged the row reflects: an older one delivered late is ignored.
                status_at     timestamptz
            );
            CREATE INDEX jobs_created_idx ON jobs (created_at DESC, id DESC);
            CREATE INDEX jobs_status_created_idx ON jobs (status, created_at DESC, id DESC);

            CREATE TABLE progress_events (
                id          bigserial PRIMARY KEY,
                job_id      uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
                message_id  uuid NOT NULL UNIQUE,
                type        text NOT NULL CHECK (type IN ('progress', 'stage', 'warning', 'done')),
                stage       text,
                progress    numeric(5,2),
                message     text,
                data        jsonb NOT NULL,
                created_at  timestamptz NOT NULL
            );
            CREATE INDEX progress_events_job_idx ON progress_events (job_id, id);
            """),
        // Numbered runs: every event belongs to a run of its job; a run's `done` is its last event.
        new("0002_runs", """
            ALTER TABLE jobs ADD COLUMN run int NOT NULL DEFAULT 1,
                             ADD COLUMN finished_run int NOT NULL DEFAULT 0;
            UPDATE jobs SET finished_run = run WHERE status IN ('completed', 'failed', 'cancelled');
            ALTER TABLE progress_events ADD COLUMN run int NOT NULL DEFAULT 1;
            """),
        // Every read is scoped to the caller's tenant (the job's owner): its newest-first page is one index range.
        new("0003_jobs_by_owner", """
            CREATE INDEX jobs_owner_created_idx ON jobs (owner, created_at DESC, id DESC);
            """),
        // Event ids now come from transaction ids (EventOrder), so they have gaps: "older than the oldest stored" no
        // longer says whether a client lost events. The store remembers the newest id it deleted instead, however a
        // row goes (an expired job's cascade, or by hand). Before this, the oldest stored id told: it starts there.
        new("0004_forgotten_events", """
            CREATE TABLE event_retention (forgotten_upto bigint NOT NULL);
            INSERT INTO event_retention SELECT COALESCE(min(id) - 1, 0) FROM progress_events;

            CREATE FUNCTION remember_forgotten_events() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE event_retention SET forgotten_upto = GREATEST(forgotten_upto, (SELECT max(id) FROM forgotten));
                RETURN NULL;
            END $$;
            CREATE TRIGGER progress_events_forgotten AFTER DELETE ON progress_events
                REFERENCING OLD TABLE AS forgotten FOR EACH STATEMENT EXECUTE FUNCTION remember_forgotten_events();
            """),
    ];
}
