// The PostgreSQL schema of the store and its migrations (pg.h: Migrate).
#include <fmt/format.h>

#include <array>

#include "store/pg/pg.h"

namespace wfp::host::pg {
namespace {

// Schema version 1: the SQLite schema v1 (sqlite_store.cc) in PostgreSQL's dialect, with the same
// tables, columns, constraints and indexes. Times are epoch seconds (BIGINT, UTC); the 0/1 flags
// and the attempt state are SMALLINT with the same CHECKs. Sessions and attempts take their ids
// from the sequences sessions_id_seq and attempts_id_seq (BIGSERIAL; unlike SQLite's rowids, a
// sequence does not follow explicitly inserted ids and does not give back the ids of rolled-back
// inserts); the other tables take explicit ids. One session per (project, workflow, session time);
// one attempt per (session, index) and per (session, name) — NULLs are distinct in a UNIQUE
// constraint, so the unnamed attempt gets its own partial unique index. Unqualified names: the
// tables go to current_schema().
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE sites (
  id BIGINT PRIMARY KEY
);
CREATE TABLE api_keys (
  hash BYTEA PRIMARY KEY CHECK (length(hash) = 32),
  site_id BIGINT NOT NULL REFERENCES sites(id)
);
CREATE INDEX api_keys_site ON api_keys(site_id);
CREATE TABLE projects (
  id BIGINT PRIMARY KEY,
  site_id BIGINT NOT NULL REFERENCES sites(id),
  name TEXT NOT NULL,
  UNIQUE (site_id, name)
);
CREATE TABLE workflows (
  id BIGINT PRIMARY KEY,
  project_id BIGINT NOT NULL REFERENCES projects(id),
  name TEXT NOT NULL,
  timezone TEXT NOT NULL,
  schedule TEXT,
  pool_id TEXT
);
CREATE INDEX workflows_project ON workflows(project_id, name);
CREATE TABLE schedules (
  id BIGINT PRIMARY KEY,
  workflow_id BIGINT NOT NULL UNIQUE REFERENCES workflows(id),
  next_schedule_time BIGINT NOT NULL,
  next_run_time BIGINT NOT NULL,
  last_session_time BIGINT,
  disabled_at BIGINT
);
CREATE TABLE sessions (
  id BIGSERIAL PRIMARY KEY,
  project_id BIGINT NOT NULL REFERENCES projects(id),
  workflow_name TEXT NOT NULL,
  session_time BIGINT NOT NULL,
  uuid TEXT,
  UNIQUE (project_id, workflow_name, session_time)
);
CREATE TABLE attempts (
  id BIGSERIAL PRIMARY KEY,
  session_id BIGINT NOT NULL REFERENCES sessions(id),
  name TEXT,
  "index" INTEGER NOT NULL,
  done SMALLINT NOT NULL CHECK (done IN (0, 1)),
  success SMALLINT NOT NULL CHECK (success IN (0, 1)),
  cancel_requested SMALLINT NOT NULL CHECK (cancel_requested IN (0, 1)),
  state SMALLINT NOT NULL CHECK (state IN (0, 1, 2)),
  params TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  finished_at BIGINT,
  pool_id TEXT,
  depends_on_session_id BIGINT REFERENCES sessions(id),
  UNIQUE (session_id, "index"),
  UNIQUE (session_id, name)
);
CREATE UNIQUE INDEX attempts_unnamed ON attempts(session_id) WHERE name IS NULL;
CREATE INDEX attempts_depends_on ON attempts(depends_on_session_id)
  WHERE depends_on_session_id IS NOT NULL;
)sql";

// The migrations, in order: kMigrations[i] takes a store from version i to version i + 1.
constexpr std::array<const char*, kPgSchemaVersion> kMigrations = {kSchemaV1};

// The body of Migrate, inside its transaction (with the advisory lock held).
Status MigrateLocked(Connection& c, int target_version) {
  Error e;
  std::optional<Result> r = c.Query(
      "SELECT current_schema(), EXISTS (SELECT 1 FROM pg_catalog.pg_tables"
      " WHERE schemaname = current_schema() AND tablename = 'wfp_schema')",
      {}, &e);
  if (!r || r->rows() != 1) {
    return Status::Internal(fmt::format("cannot read the schema version: {}", e.message));
  }
  if (r->IsNull(0, 0)) {
    return Status::Internal(
        "no schema to create the store in: the search_path names no existing schema");
  }
  const std::string schema(r->Text(0, 0));
  int version = 0;
  if (r->Int(0, 1)) {
    std::optional<Result> v = c.Query("SELECT version FROM wfp_schema", {}, &e);
    if (!v) {
      return Status::Internal(fmt::format("cannot read the schema version: {}", e.message));
    }
    if (v->rows() != 1 || v->IsNull(0, 0)) {
      return Status::Internal(
          fmt::format("cannot read the schema version: wfp_schema in schema \"{}\" has {} rows",
                      schema, v->rows()));
    }
    version = static_cast<int>(v->Int(0, 0));
  }
  if (version > target_version) {
    // Not a fault: this host cannot use the store (SQLite's Migrate answers the same).
    return Status::Unsupported(fmt::format(
        "the store has schema version {}, newer than this host's ({})", version, target_version));
  }
  if (version == target_version) return Status::Ok();
  if (version == 0 &&
      !c.Exec("CREATE TABLE wfp_schema (version INT NOT NULL); INSERT INTO wfp_schema VALUES (0)",
              &e)) {
    return Status::Internal(fmt::format("creating the schema in \"{}\": {}", schema, e.message));
  }
  for (int step = version; step < target_version; ++step) {
    if (!c.Exec(kMigrations[static_cast<size_t>(step)], &e)) {
      return Status::Internal(fmt::format("migrating the store in \"{}\" to schema version {}: {}",
                                          schema, step + 1, e.message));
    }
  }
  if (!c.Query("UPDATE wfp_schema SET version = $1", {target_version}, &e)) {
    return Status::Internal(fmt::format("recording the schema version: {}", e.message));
  }
  return Status::Ok();
}

}  // namespace

Status Migrate(Connection& connection, int target_version) {
  if (target_version < 1 || target_version > kPgSchemaVersion)
    return Status::InvalidArgument(fmt::format("no schema version {} (this host knows 1 to {})",
                                               target_version, kPgSchemaVersion));
  if (connection.txn_state() != TxnState::kIdle)
    return Status::WrongState("Migrate must run outside a transaction");
  Error e;
  // READ COMMITTED: once the lock is ours, the next statement sees what a host that held it
  // before committed.
  if (!connection.Exec("BEGIN ISOLATION LEVEL READ COMMITTED", &e))
    return Status::Internal(fmt::format("cannot begin the migration: {}", e.message));
  Status done;
  if (!connection.Query("SELECT pg_advisory_xact_lock(hashtext(current_schema()))", {}, &e))
    done = Status::Internal(fmt::format("cannot lock the store for its migration: {}", e.message));
  if (done.ok()) done = MigrateLocked(connection, target_version);
  if (done.ok() && !connection.Exec("COMMIT", &e))
    done = Status::Internal(fmt::format("cannot commit the migration: {}", e.message));
  if (!done.ok() && connection.txn_state() != TxnState::kIdle) connection.Exec("ROLLBACK", &e);
  return done;
}

}  // namespace wfp::host::pg
