-- What routing creates besides the lead: the Application record a configuration may ask
-- for, and first messages waiting for a rep's approval (configurations not on autopilot).

CREATE TABLE applications (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  lead_id text NOT NULL REFERENCES leads(id),
  configuration_id text REFERENCES lead_management_configs(id),
  name text NOT NULL,
  status text,
  pipeline_id text REFERENCES pipelines(id),
  stage_id text REFERENCES pipeline_stages(id),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX applications_lead_idx ON applications (organization_id, lead_id);

-- Bulk imports write one approval and one intake row per lead: only the lead is a foreign
-- key (the lead already references its organization and configuration), so each row costs
-- one referential check, not three.
CREATE TABLE approvals (
  id text PRIMARY KEY,
  organization_id text NOT NULL,
  lead_id text NOT NULL REFERENCES leads(id),
  configuration_id text,
  -- first_touch or reply: what the message answers
  purpose text NOT NULL,
  channel text NOT NULL CHECK (channel IN ('text', 'email')),
  content text NOT NULL,
  -- ai: written by the composer; template: the starter message or the composer's fallback
  composed_by text NOT NULL CHECK (composed_by IN ('ai', 'template')),
  trace_id text,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  decided_by text REFERENCES users(id),
  decided_at timestamptz,
  -- the outbound message approval created
  message_id text,
  created_at timestamptz NOT NULL
);
CREATE INDEX approvals_queue_idx ON approvals (organization_id, status, created_at, id);

-- One row per lead routed through a configuration (webhook, email, import): what happened
-- and what the lead cost. Outreach metrics sum cost over new leads per configuration.
CREATE TABLE lead_intakes (
  id text PRIMARY KEY,
  organization_id text NOT NULL,
  lead_id text NOT NULL REFERENCES leads(id),
  configuration_id text NOT NULL,
  origin text NOT NULL CHECK (origin IN ('webhook', 'email', 'import')),
  -- true when this intake created the lead; only new leads carry the configuration's cost
  created boolean NOT NULL,
  contacted boolean NOT NULL,
  cost double precision NOT NULL DEFAULT 0,
  at timestamptz NOT NULL
);
CREATE INDEX lead_intakes_metrics_idx ON lead_intakes (organization_id, configuration_id, at);
CREATE INDEX lead_intakes_lead_idx ON lead_intakes (organization_id, lead_id);
