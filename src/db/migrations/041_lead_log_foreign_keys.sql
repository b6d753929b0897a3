-- Every lead change writes an event, and a stage change also writes a Stage Change activity
-- and a stage-history row. Through its organization foreign key, each such insert took a KEY
-- SHARE lock on the organization's row, which every concurrent change in that organization
-- locks too: PostgreSQL records those shared locks as multixacts, extra WAL and contention
-- on one row for every change. The rows still reference their lead, and the lead its
-- organization (as the approval and intake rows of 031 do).
ALTER TABLE lead_events DROP CONSTRAINT lead_events_organization_id_fkey;
ALTER TABLE lead_activities DROP CONSTRAINT lead_activities_organization_id_fkey;
ALTER TABLE stage_history DROP CONSTRAINT stage_history_organization_id_fkey;
