-- Lead and campaign numbers (`seq`, the integer ids Autocalls clients hold) were drawn from
-- one identity sequence per table across all organizations, so the gap between two of an
-- organization's numbers told it how many rows the others had created meanwhile. Each
-- organization now numbers its own rows 1, 2, 3, … from a counter row per table. Numbers
-- already given stay as they are (clients have stored them); an organization's next one
-- follows its highest.
CREATE TABLE seq_counters (
  organization_id text NOT NULL REFERENCES organizations(id),
  table_name text NOT NULL CHECK (table_name IN ('leads', 'campaigns')),
  last_seq bigint NOT NULL,
  PRIMARY KEY (organization_id, table_name)
);

INSERT INTO seq_counters (organization_id, table_name, last_seq)
SELECT organization_id, 'leads', max(seq) FROM leads GROUP BY organization_id
UNION ALL
SELECT organization_id, 'campaigns', max(seq) FROM campaigns GROUP BY organization_id;

-- Takes the next `how_many` numbers of the organization in that table at once and answers
-- the number just before them. The counter row stays locked until the caller's transaction
-- ends, so concurrent takers queue for it and never get the same number; a rolled-back
-- transaction gives its numbers back. An organization's first take creates its row.
CREATE FUNCTION take_seqs(organization text, numbered_table text, how_many bigint) RETURNS bigint
LANGUAGE sql AS $$
  INSERT INTO seq_counters AS c (organization_id, table_name, last_seq) VALUES (organization, numbered_table, how_many)
  ON CONFLICT (organization_id, table_name) DO UPDATE SET last_seq = c.last_seq + EXCLUDED.last_seq
  RETURNING c.last_seq - how_many
$$;

-- NOT NULL stays: every insert numbers its rows through take_seqs (src/db/bulk.ts
-- insertNumbered), and one that does not fails instead of going unnumbered.
ALTER TABLE leads
  ALTER COLUMN seq DROP IDENTITY,
  DROP CONSTRAINT leads_seq_key,
  ADD CONSTRAINT leads_seq_key UNIQUE (organization_id, seq);
ALTER TABLE campaigns
  ALTER COLUMN seq DROP IDENTITY,
  DROP CONSTRAINT campaigns_seq_key,
  ADD CONSTRAINT campaigns_seq_key UNIQUE (organization_id, seq);
