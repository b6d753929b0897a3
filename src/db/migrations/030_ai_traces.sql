-- One row per AI composer call: what it was for, how long it took, what it cost in tokens and
-- how it ended. Shown on the lead (GET /api/leads/{id}/ai-traces); playground calls have no lead.

CREATE TABLE ai_traces (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  -- no foreign key: the first message is composed before its lead's row is written
  lead_id text,
  -- first_touch, follow_up, reply, playground
  purpose text NOT NULL,
  model text,
  -- ok: the model wrote the message; fallback: the template was used instead
  outcome text NOT NULL CHECK (outcome IN ('ok', 'fallback', 'error')),
  error text,
  latency_ms integer NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  prompt_tokens integer,
  completion_tokens integer,
  total_tokens integer,
  request jsonb NOT NULL DEFAULT '[]',
  response text,
  created_at timestamptz NOT NULL
);
CREATE INDEX ai_traces_lead_idx ON ai_traces (organization_id, lead_id, created_at DESC) WHERE lead_id IS NOT NULL;
