-- A pipeline a vendor dialect keeps for its own fixed stage list (Convocore's 13 CRM stages):
-- at most one per organization and dialect, found or created on first use, so concurrent
-- first uses agree on one pipeline.
ALTER TABLE pipelines ADD COLUMN dialect text;
CREATE UNIQUE INDEX pipelines_dialect_key ON pipelines (organization_id, dialect) WHERE dialect IS NOT NULL;
