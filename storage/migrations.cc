#include "storage/migrations.h"

#include <iterator>

#include "absl/strings/str_cat.h"

namespace pstrack {
namespace {

// Migrations are history: each one's statements are the fixed text of its
// version, never built from today's code. The aggregates' counter columns as
// migrations 3, 5 and 6 made them, which is what migrations 7 and 8 copy (a
// counter added later gets its own migration and is not in this list).
// tests/store/schema_test.cc holds every migration's text to a committed
// digest and the resulting schema to a committed fixture.
constexpr const char* kCountersOfVersion6[] = {
    "received",          "received_online",   "received_eligible_full_online", "received_full_online",
    "received_fee_nonzero", "paid_online",     "digitised",         "digitised_documents",
    "reused_data",       "shared_for_reuse",  "population_db_used",
    "finished",          "early",             "on_time",           "late",
    "portal_finished",   "portal_early",      "portal_on_time",    "portal_late",
    "apology",           "resolved",          "electronic_result", "fully_electronic",
    "processing_days",   "rated",             "satisfied",         "complaint",
    "late_or_disliked",  "opened",            "closed",            "overdue_started",
    "overdue_ended",     "portal_overdue_started", "portal_overdue_ended",
    "appointment_mismatch"};
static_assert(std::size(kCountersOfVersion6) == 35);

// Month (basis + 10) or year (basis + 20) roll-up rows of the day rows
// already stored (sql_store.cc, "Time roll-ups").
std::string RollupFromDays(int grain, const char* day_expression) {
  std::string columns, sums;
  for (const char* name : kCountersOfVersion6) {
    absl::StrAppend(&columns, ", ", name);
    absl::StrAppend(&sums, ", SUM(", name, ")");
  }
  return absl::StrCat("INSERT INTO aggregates (node_code, basis, dim, dim_value, day", columns,
                      ") SELECT node_code, basis + ", grain, ", dim, dim_value, ", day_expression, sums,
                      " FROM aggregates WHERE basis < 10 GROUP BY node_code, basis, dim, dim_value, ", day_expression);
}

// Migration 8 on SQLite: the aggregates again, as a WITHOUT ROWID table
// clustered by its key. A rowid table keeps the key in a separate index, so
// every upsert wrote two B-trees and every range sum looked each row up
// in the table; clustered, both touch one. The day now comes before the
// dimension value in the key, so a month of a breakdown reads that month's
// rows, not every month's.
std::vector<std::string> ClusterAggregates() {
  std::string definitions, columns;
  for (const char* name : kCountersOfVersion6) {
    absl::StrAppend(&definitions, name, " BIGINT NOT NULL DEFAULT 0, ");
    absl::StrAppend(&columns, ", ", name);
  }
  const std::string columns_in_key_order = "node_code, basis, dim, day, dim_value";
  return {
      // Roll-ups stay only where the aggregation writes them now (the first
      // two levels of the tree: kRolledUpDepth in services/metrics).
      absl::StrCat("DELETE FROM aggregates WHERE basis >= 10 AND node_code NOT IN "
                   "(SELECT code FROM agencies WHERE path NOT LIKE '%/%/%')"),
      absl::StrCat(kSqliteOnly, "CREATE TABLE aggregates_clustered (node_code TEXT NOT NULL, basis INTEGER NOT NULL, "
                                "dim INTEGER NOT NULL, dim_value TEXT NOT NULL, day TEXT NOT NULL, ",
                   definitions, "PRIMARY KEY (", columns_in_key_order, ")) WITHOUT ROWID"),
      absl::StrCat(kSqliteOnly, "INSERT INTO aggregates_clustered (", columns_in_key_order, columns, ") SELECT ",
                   columns_in_key_order, columns, " FROM aggregates ORDER BY ", columns_in_key_order),
      absl::StrCat(kSqliteOnly, "DROP TABLE aggregates"),
      absl::StrCat(kSqliteOnly, "ALTER TABLE aggregates_clustered RENAME TO aggregates"),
  };
}

}  // namespace

const std::vector<Migration>& AllMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1,
       "agency tree and procedure catalog",
       {
           R"(CREATE TABLE agencies (
                code {text_key} PRIMARY KEY,
                name TEXT NOT NULL,
                name_folded TEXT NOT NULL,
                level INTEGER NOT NULL,
                parent_code {text_key} REFERENCES agencies(code),
                admin_code TEXT NOT NULL,
                valid_from TEXT,
                valid_until TEXT,
                successor_code {text_key} REFERENCES agencies(code),
                path {text_key} NOT NULL UNIQUE,
                depth INTEGER NOT NULL,
                revision BIGINT NOT NULL,
                create_time_us BIGINT NOT NULL,
                update_time_us BIGINT NOT NULL))",
           "CREATE INDEX agencies_by_parent ON agencies(parent_code)",
           "CREATE INDEX agencies_by_successor ON agencies(successor_code)",
           "CREATE INDEX agencies_by_level ON agencies(level, path)",
           R"(CREATE TABLE procedures (
                code {text_key} PRIMARY KEY,
                name TEXT NOT NULL,
                name_folded TEXT NOT NULL,
                field TEXT NOT NULL,
                levels_mask INTEGER NOT NULL,
                online_mode INTEGER NOT NULL,
                full_online_eligible INTEGER NOT NULL,
                resolution_amount INTEGER NOT NULL,
                resolution_unit INTEGER NOT NULL,
                fee_bearing INTEGER NOT NULL,
                online_payment_integrated INTEGER NOT NULL,
                population_db_connected INTEGER NOT NULL,
                valid_from TEXT,
                valid_until TEXT,
                revision BIGINT NOT NULL,
                create_time_us BIGINT NOT NULL,
                update_time_us BIGINT NOT NULL))",
           "CREATE INDEX procedures_by_field ON procedures(field, code)",
           R"(CREATE TABLE procedure_agencies (
                procedure_code {text_key} NOT NULL REFERENCES procedures(code) ON DELETE CASCADE,
                agency_code {text_key} NOT NULL REFERENCES agencies(code),
                PRIMARY KEY (procedure_code, agency_code)))",
           "CREATE INDEX procedure_agencies_by_agency ON procedure_agencies(agency_code, procedure_code)",
       }},
      {2,
       "filing events and the dossier index",
       {
           R"(CREATE TABLE filing_events (
                event_id {text_key} PRIMARY KEY,
                dossier_code {text_key} NOT NULL,
                occurred_us BIGINT NOT NULL,
                kind INTEGER NOT NULL,
                content TEXT NOT NULL,
                recorded_us BIGINT NOT NULL))",
           "CREATE INDEX filing_events_by_dossier ON filing_events(dossier_code, occurred_us)",
           R"(CREATE TABLE dossiers (
                code {text_key} PRIMARY KEY,
                agency_code {text_key} NOT NULL REFERENCES agencies(code),
                agency_path {text_key} NOT NULL,
                procedure_code {text_key},
                status INTEGER NOT NULL,
                channel INTEGER NOT NULL,
                received_us BIGINT,
                received_day TEXT,
                due_us BIGINT,
                finish_us BIGINT,
                finish_day TEXT,
                wait_since_us BIGINT,
                event_count INTEGER NOT NULL,
                updated_us BIGINT NOT NULL))",
           "CREATE INDEX dossiers_by_path_received ON dossiers(agency_path, received_day)",
           "CREATE INDEX dossiers_by_path_finished ON dossiers(agency_path, finish_day)",
           "CREATE INDEX dossiers_by_procedure ON dossiers(procedure_code, code)",
           "CREATE INDEX dossiers_open_by_due ON dossiers(due_us) WHERE finish_us IS NULL",
       }},
      {3,
       "indicator aggregates per agency node, basis, dimension and day",
       {
           R"(CREATE TABLE aggregates (
                node_code {text_key} NOT NULL,
                basis INTEGER NOT NULL,
                dim INTEGER NOT NULL,
                dim_value {text_key} NOT NULL,
                day TEXT NOT NULL,
                received BIGINT NOT NULL DEFAULT 0,
                received_online BIGINT NOT NULL DEFAULT 0,
                received_eligible_full_online BIGINT NOT NULL DEFAULT 0,
                received_full_online BIGINT NOT NULL DEFAULT 0,
                received_fee_nonzero BIGINT NOT NULL DEFAULT 0,
                paid_online BIGINT NOT NULL DEFAULT 0,
                digitised BIGINT NOT NULL DEFAULT 0,
                digitised_documents BIGINT NOT NULL DEFAULT 0,
                reused_data BIGINT NOT NULL DEFAULT 0,
                shared_for_reuse BIGINT NOT NULL DEFAULT 0,
                population_db_used BIGINT NOT NULL DEFAULT 0,
                finished BIGINT NOT NULL DEFAULT 0,
                early BIGINT NOT NULL DEFAULT 0,
                on_time BIGINT NOT NULL DEFAULT 0,
                late BIGINT NOT NULL DEFAULT 0,
                portal_finished BIGINT NOT NULL DEFAULT 0,
                portal_early BIGINT NOT NULL DEFAULT 0,
                portal_on_time BIGINT NOT NULL DEFAULT 0,
                portal_late BIGINT NOT NULL DEFAULT 0,
                apology BIGINT NOT NULL DEFAULT 0,
                resolved BIGINT NOT NULL DEFAULT 0,
                electronic_result BIGINT NOT NULL DEFAULT 0,
                fully_electronic BIGINT NOT NULL DEFAULT 0,
                processing_days BIGINT NOT NULL DEFAULT 0,
                rated BIGINT NOT NULL DEFAULT 0,
                satisfied BIGINT NOT NULL DEFAULT 0,
                complaint BIGINT NOT NULL DEFAULT 0,
                late_or_disliked BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (node_code, basis, dim, dim_value, day)))",
           "ALTER TABLE dossiers ADD COLUMN overdue_from_us BIGINT",
           "ALTER TABLE dossiers ADD COLUMN portal_overdue_from_us BIGINT",
           "CREATE INDEX dossiers_by_path_open ON dossiers(agency_path, received_us) WHERE finish_us IS NULL",
           R"(CREATE TABLE external_inputs (
                input_id {text_key} PRIMARY KEY,
                agency_code {text_key} NOT NULL REFERENCES agencies(code),
                indicator_id {text_key} NOT NULL,
                start_day TEXT NOT NULL,
                end_day TEXT NOT NULL,
                numerator DOUBLE PRECISION NOT NULL,
                denominator DOUBLE PRECISION NOT NULL,
                value DOUBLE PRECISION NOT NULL,
                source TEXT NOT NULL,
                recorded_us BIGINT NOT NULL))",
           "CREATE INDEX external_inputs_by_agency ON external_inputs(agency_code, indicator_id, start_day)",
       }},
      {4,
       "API keys and the audit log",
       {
           R"(CREATE TABLE api_keys (
                key_id {text_key} PRIMARY KEY,
                name TEXT NOT NULL,
                role INTEGER NOT NULL,
                scope_agency_code {text_key} REFERENCES agencies(code),
                certificate_subject {text_key},
                certificate_only INTEGER NOT NULL,
                salt TEXT NOT NULL,
                secret_hash TEXT NOT NULL,
                rate_limit DOUBLE PRECISION NOT NULL,
                create_time_us BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                revoke_time_us BIGINT,
                revoked_by TEXT))",
           "CREATE INDEX api_keys_by_certificate ON api_keys(certificate_subject) WHERE certificate_subject IS NOT NULL",
           R"(CREATE TABLE audit_log (
                id {auto_id},
                at_us BIGINT NOT NULL,
                principal {text_key} NOT NULL,
                role INTEGER NOT NULL,
                method {text_key} NOT NULL,
                target TEXT NOT NULL,
                code INTEGER NOT NULL,
                message TEXT NOT NULL,
                applied INTEGER NOT NULL,
                unchanged INTEGER NOT NULL,
                rejected INTEGER NOT NULL,
                peer TEXT NOT NULL,
                duration_us BIGINT NOT NULL))",
           "CREATE INDEX audit_log_by_time ON audit_log(at_us)",
           "CREATE INDEX audit_log_by_principal ON audit_log(principal, id)",
       }},
      {5,
       "clock-basis counters: open and overdue dossiers at any midnight without a scan",
       {
           "ALTER TABLE aggregates ADD COLUMN opened BIGINT NOT NULL DEFAULT 0",
           "ALTER TABLE aggregates ADD COLUMN closed BIGINT NOT NULL DEFAULT 0",
           "ALTER TABLE aggregates ADD COLUMN overdue_started BIGINT NOT NULL DEFAULT 0",
           "ALTER TABLE aggregates ADD COLUMN overdue_ended BIGINT NOT NULL DEFAULT 0",
           "ALTER TABLE aggregates ADD COLUMN portal_overdue_started BIGINT NOT NULL DEFAULT 0",
           "ALTER TABLE aggregates ADD COLUMN portal_overdue_ended BIGINT NOT NULL DEFAULT 0",
           // Work the server does once at start: the new counters of
           // dossiers recorded before this migration.
           "CREATE TABLE maintenance (task {text_key} PRIMARY KEY)",
           "INSERT INTO maintenance (task) SELECT 'rebuild_aggregates' WHERE EXISTS (SELECT 1 FROM aggregates)",
       }},
      {6,
       "periodic reports, the feed log (accepted, late and rejected events per agency and day), the agencies' "
       "own aggregate nodes and the appointment-mismatch counter",
       {
           // Every revision of every report; exactly one current per id.
           R"(CREATE TABLE reports (
                report_id {text_key} NOT NULL,
                revision INTEGER NOT NULL,
                current INTEGER NOT NULL,
                agency_code {text_key} NOT NULL,
                subject_kind INTEGER NOT NULL,
                subject {text_key} NOT NULL,
                granularity INTEGER NOT NULL,
                period_label TEXT NOT NULL,
                start_day TEXT NOT NULL,
                end_day TEXT NOT NULL,
                figures TEXT NOT NULL,
                source TEXT NOT NULL,
                recorded_us BIGINT NOT NULL,
                recorded_by TEXT NOT NULL,
                PRIMARY KEY (report_id, revision)))",
           // One current report per agency, subject, granularity and period,
           // across every server process.
           "CREATE UNIQUE INDEX reports_one_per_slot ON reports(agency_code, subject_kind, subject, granularity, "
           "start_day) WHERE current = 1",
           "CREATE INDEX reports_current_by_period ON reports(start_day, agency_code) WHERE current = 1",
           R"(CREATE TABLE feed_log (
                agency_code {text_key} NOT NULL,
                day TEXT NOT NULL,
                metric {text_key} NOT NULL,
                count BIGINT NOT NULL,
                last_us BIGINT NOT NULL,
                PRIMARY KEY (agency_code, day, metric)))",
           R"(CREATE TABLE feed_last (
                agency_code {text_key} PRIMARY KEY,
                first_us BIGINT NOT NULL,
                last_us BIGINT NOT NULL))",
           "ALTER TABLE aggregates ADD COLUMN appointment_mismatch BIGINT NOT NULL DEFAULT 0",
           // Existing dossiers get their own-node rows and the new counter.
           "INSERT INTO maintenance (task) SELECT 'rebuild_aggregates' WHERE EXISTS (SELECT 1 FROM aggregates) "
           "AND NOT EXISTS (SELECT 1 FROM maintenance WHERE task = 'rebuild_aggregates')",
       }},
      {7,
       "month and year roll-ups of the aggregates (long periods read a few rows), a reference-data version counter, agencies by path",
       {
           RollupFromDays(10, "substr(day, 1, 7) || '-01'"),
           RollupFromDays(20, "substr(day, 1, 4) || '-01-01'"),
           // A counter that every write to the tree or the catalog moves:
           // readers keep their in-memory copy while it stays the same.
           "CREATE TABLE reference_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)",
           "INSERT INTO reference_version (id, version) VALUES (1, 1)",
           "CREATE INDEX agencies_by_path ON agencies(path)",
       }},
      {8,
       "time roll-ups for the nation and the provinces only; aggregates clustered by their key on SQLite (one "
       "B-tree per upsert and per range sum)",
       ClusterAggregates()},
      {9,
       "a change count on the aggregates' total rows: readers check what they derived from a range of rows "
       "against its sum instead of reading the rows again",
       {
           "ALTER TABLE aggregates ADD COLUMN changes BIGINT NOT NULL DEFAULT 0",
       }},
      {10,
       "set semantics: events a lifecycle rule sets aside, and dossier codes dated other than their receipt, "
       "counted for the data-quality view",
       {
           "ALTER TABLE aggregates ADD COLUMN code_date_mismatch BIGINT NOT NULL DEFAULT 0",
           "ALTER TABLE aggregates ADD COLUMN set_aside BIGINT NOT NULL DEFAULT 0",
           // Existing dossiers get the new counters.
           "INSERT INTO maintenance (task) SELECT 'rebuild_aggregates' WHERE EXISTS (SELECT 1 FROM aggregates) "
           "AND NOT EXISTS (SELECT 1 FROM maintenance WHERE task = 'rebuild_aggregates')",
       }},
      {11,
       "the event log: an event is acknowledged once appended here; the projection moves it into filing_events "
       "with the dossier rows and aggregates it changes",
       {
           R"(CREATE TABLE event_log (
                seq {auto_id},
                event_id {text_key} NOT NULL UNIQUE,
                dossier_code {text_key} NOT NULL,
                occurred_us BIGINT NOT NULL,
                kind INTEGER NOT NULL,
                content TEXT NOT NULL,
                recorded_us BIGINT NOT NULL))",
           "CREATE INDEX event_log_by_dossier ON event_log(dossier_code)",
       }},
  };
  return kMigrations;
}

}  // namespace pstrack
