#include "storage/migrations.h"

namespace pstrack {

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
  };
  return kMigrations;
}

}  // namespace pstrack
