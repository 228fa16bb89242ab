-- A pstrack database at schema version 6 (sqlite), made by tests/store/schema_test.cc from migrations 1-6. Never regenerate: it stands for databases made by older releases.
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_time_us BIGINT NOT NULL);
CREATE TABLE agencies (
                code TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                name_folded TEXT NOT NULL,
                level INTEGER NOT NULL,
                parent_code TEXT REFERENCES agencies(code),
                admin_code TEXT NOT NULL,
                valid_from TEXT,
                valid_until TEXT,
                successor_code TEXT REFERENCES agencies(code),
                path TEXT NOT NULL UNIQUE,
                depth INTEGER NOT NULL,
                revision BIGINT NOT NULL,
                create_time_us BIGINT NOT NULL,
                update_time_us BIGINT NOT NULL);
CREATE INDEX agencies_by_parent ON agencies(parent_code);
CREATE INDEX agencies_by_successor ON agencies(successor_code);
CREATE INDEX agencies_by_level ON agencies(level, path);
CREATE TABLE procedures (
                code TEXT PRIMARY KEY,
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
                update_time_us BIGINT NOT NULL);
CREATE INDEX procedures_by_field ON procedures(field, code);
CREATE TABLE procedure_agencies (
                procedure_code TEXT NOT NULL REFERENCES procedures(code) ON DELETE CASCADE,
                agency_code TEXT NOT NULL REFERENCES agencies(code),
                PRIMARY KEY (procedure_code, agency_code));
CREATE INDEX procedure_agencies_by_agency ON procedure_agencies(agency_code, procedure_code);
INSERT INTO schema_migrations VALUES (1, 'agency tree and procedure catalog', 1700000000000000);
CREATE TABLE filing_events (
                event_id TEXT PRIMARY KEY,
                dossier_code TEXT NOT NULL,
                occurred_us BIGINT NOT NULL,
                kind INTEGER NOT NULL,
                content TEXT NOT NULL,
                recorded_us BIGINT NOT NULL);
CREATE INDEX filing_events_by_dossier ON filing_events(dossier_code, occurred_us);
CREATE TABLE dossiers (
                code TEXT PRIMARY KEY,
                agency_code TEXT NOT NULL REFERENCES agencies(code),
                agency_path TEXT NOT NULL,
                procedure_code TEXT,
                status INTEGER NOT NULL,
                channel INTEGER NOT NULL,
                received_us BIGINT,
                received_day TEXT,
                due_us BIGINT,
                finish_us BIGINT,
                finish_day TEXT,
                wait_since_us BIGINT,
                event_count INTEGER NOT NULL,
                updated_us BIGINT NOT NULL);
CREATE INDEX dossiers_by_path_received ON dossiers(agency_path, received_day);
CREATE INDEX dossiers_by_path_finished ON dossiers(agency_path, finish_day);
CREATE INDEX dossiers_by_procedure ON dossiers(procedure_code, code);
CREATE INDEX dossiers_open_by_due ON dossiers(due_us) WHERE finish_us IS NULL;
INSERT INTO schema_migrations VALUES (2, 'filing events and the dossier index', 1700000000000000);
CREATE TABLE aggregates (
                node_code TEXT NOT NULL,
                basis INTEGER NOT NULL,
                dim INTEGER NOT NULL,
                dim_value TEXT NOT NULL,
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
                PRIMARY KEY (node_code, basis, dim, dim_value, day));
ALTER TABLE dossiers ADD COLUMN overdue_from_us BIGINT;
ALTER TABLE dossiers ADD COLUMN portal_overdue_from_us BIGINT;
CREATE INDEX dossiers_by_path_open ON dossiers(agency_path, received_us) WHERE finish_us IS NULL;
CREATE TABLE external_inputs (
                input_id TEXT PRIMARY KEY,
                agency_code TEXT NOT NULL REFERENCES agencies(code),
                indicator_id TEXT NOT NULL,
                start_day TEXT NOT NULL,
                end_day TEXT NOT NULL,
                numerator DOUBLE PRECISION NOT NULL,
                denominator DOUBLE PRECISION NOT NULL,
                value DOUBLE PRECISION NOT NULL,
                source TEXT NOT NULL,
                recorded_us BIGINT NOT NULL);
CREATE INDEX external_inputs_by_agency ON external_inputs(agency_code, indicator_id, start_day);
INSERT INTO schema_migrations VALUES (3, 'indicator aggregates per agency node, basis, dimension and day', 1700000000000000);
CREATE TABLE api_keys (
                key_id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                role INTEGER NOT NULL,
                scope_agency_code TEXT REFERENCES agencies(code),
                certificate_subject TEXT,
                certificate_only INTEGER NOT NULL,
                salt TEXT NOT NULL,
                secret_hash TEXT NOT NULL,
                rate_limit DOUBLE PRECISION NOT NULL,
                create_time_us BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                revoke_time_us BIGINT,
                revoked_by TEXT);
CREATE INDEX api_keys_by_certificate ON api_keys(certificate_subject) WHERE certificate_subject IS NOT NULL;
CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at_us BIGINT NOT NULL,
                principal TEXT NOT NULL,
                role INTEGER NOT NULL,
                method TEXT NOT NULL,
                target TEXT NOT NULL,
                code INTEGER NOT NULL,
                message TEXT NOT NULL,
                applied INTEGER NOT NULL,
                unchanged INTEGER NOT NULL,
                rejected INTEGER NOT NULL,
                peer TEXT NOT NULL,
                duration_us BIGINT NOT NULL);
CREATE INDEX audit_log_by_time ON audit_log(at_us);
CREATE INDEX audit_log_by_principal ON audit_log(principal, id);
INSERT INTO schema_migrations VALUES (4, 'API keys and the audit log', 1700000000000000);
ALTER TABLE aggregates ADD COLUMN opened BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aggregates ADD COLUMN closed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aggregates ADD COLUMN overdue_started BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aggregates ADD COLUMN overdue_ended BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aggregates ADD COLUMN portal_overdue_started BIGINT NOT NULL DEFAULT 0;
ALTER TABLE aggregates ADD COLUMN portal_overdue_ended BIGINT NOT NULL DEFAULT 0;
CREATE TABLE maintenance (task TEXT PRIMARY KEY);
INSERT INTO maintenance (task) SELECT 'rebuild_aggregates' WHERE EXISTS (SELECT 1 FROM aggregates);
INSERT INTO schema_migrations VALUES (5, 'clock-basis counters: open and overdue dossiers at any midnight without a scan', 1700000000000000);
CREATE TABLE reports (
                report_id TEXT NOT NULL,
                revision INTEGER NOT NULL,
                current INTEGER NOT NULL,
                agency_code TEXT NOT NULL,
                subject_kind INTEGER NOT NULL,
                subject TEXT NOT NULL,
                granularity INTEGER NOT NULL,
                period_label TEXT NOT NULL,
                start_day TEXT NOT NULL,
                end_day TEXT NOT NULL,
                figures TEXT NOT NULL,
                source TEXT NOT NULL,
                recorded_us BIGINT NOT NULL,
                recorded_by TEXT NOT NULL,
                PRIMARY KEY (report_id, revision));
CREATE UNIQUE INDEX reports_one_per_slot ON reports(agency_code, subject_kind, subject, granularity, start_day) WHERE current = 1;
CREATE INDEX reports_current_by_period ON reports(start_day, agency_code) WHERE current = 1;
CREATE TABLE feed_log (
                agency_code TEXT NOT NULL,
                day TEXT NOT NULL,
                metric TEXT NOT NULL,
                count BIGINT NOT NULL,
                last_us BIGINT NOT NULL,
                PRIMARY KEY (agency_code, day, metric));
CREATE TABLE feed_last (
                agency_code TEXT PRIMARY KEY,
                first_us BIGINT NOT NULL,
                last_us BIGINT NOT NULL);
ALTER TABLE aggregates ADD COLUMN appointment_mismatch BIGINT NOT NULL DEFAULT 0;
INSERT INTO maintenance (task) SELECT 'rebuild_aggregates' WHERE EXISTS (SELECT 1 FROM aggregates) AND NOT EXISTS (SELECT 1 FROM maintenance WHERE task = 'rebuild_aggregates');
INSERT INTO schema_migrations VALUES (6, 'periodic reports, the feed log (accepted, late and rejected events per agency and day), the agencies'' own aggregate nodes and the appointment-mismatch counter', 1700000000000000);
INSERT INTO agencies (code, name, name_folded, level, parent_code, admin_code, path, depth, revision, create_time_us, update_time_us) VALUES
  ('VN', 'Việt Nam', 'viet nam', 1, NULL, '', 'VN', 0, 1, 0, 0),
  ('P22', 'Tỉnh Quảng Ninh', 'tinh quang ninh', 3, 'VN', '22', 'VN/P22', 1, 1, 0, 0),
  ('P22.HALONG', 'Phường Hạ Long', 'phuong ha long', 6, 'P22', '06688', 'VN/P22/P22.HALONG', 2, 1, 0, 0);
INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished, appointment_mismatch) VALUES ('VN', 0, 0, '', '2025-07-01', 3, 1, 0);
INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished, appointment_mismatch) VALUES ('VN', 0, 0, '', '2025-07-15', 4, 1, 0);
INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished, appointment_mismatch) VALUES ('VN', 0, 0, '', '2025-08-01', 5, 1, 0);
INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished, appointment_mismatch) VALUES ('VN', 0, 0, '', '2025-08-31', 6, 1, 0);
INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished, appointment_mismatch) VALUES ('P22', 0, 0, '', '2025-07-01', 3, 1, 0);
INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished, appointment_mismatch) VALUES ('P22', 0, 0, '', '2025-07-15', 4, 1, 0);
INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished, appointment_mismatch) VALUES ('P22', 0, 0, '', '2025-08-01', 5, 1, 0);
INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished, appointment_mismatch) VALUES ('P22', 0, 0, '', '2025-08-31', 6, 1, 0);
INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished, appointment_mismatch) VALUES ('P22.HALONG', 0, 0, '', '2025-07-01', 3, 1, 0);
INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished, appointment_mismatch) VALUES ('P22.HALONG', 0, 0, '', '2025-07-15', 4, 1, 0);
INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished, appointment_mismatch) VALUES ('P22.HALONG', 0, 0, '', '2025-08-01', 5, 1, 0);
INSERT INTO aggregates (node_code, basis, dim, dim_value, day, received, finished, appointment_mismatch) VALUES ('P22.HALONG', 0, 0, '', '2025-08-31', 6, 1, 0);
