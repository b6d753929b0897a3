-- Agents (AI personas), campaigns, leads and what hangs off a lead: its CRM timeline,
-- its change log and its stage history.

CREATE TABLE agents (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  name text NOT NULL,
  process_id text REFERENCES prompts(id),
  voice_enabled boolean NOT NULL DEFAULT false,
  email_enabled boolean NOT NULL DEFAULT false,
  follow_up_config jsonb,
  -- sending window; null falls back to the organization's
  timezone text,
  send_window_start time,
  send_window_end time,
  send_days smallint[],
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Apten addresses an agent ("customer profile") by name
CREATE UNIQUE INDEX agents_name_key ON agents (organization_id, lower(name));

CREATE TABLE campaigns (
  id text PRIMARY KEY,
  -- Autocalls addresses campaigns by integer
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  organization_id text NOT NULL REFERENCES organizations(id),
  user_id text NOT NULL REFERENCES users(id),
  name text NOT NULL,
  agent_id text REFERENCES agents(id),
  timezone text NOT NULL DEFAULT 'UTC',
  allowed_hours_start time NOT NULL DEFAULT '09:00',
  allowed_hours_end time NOT NULL DEFAULT '20:00',
  allowed_days smallint[] NOT NULL DEFAULT '{1,2,3,4,5}',
  max_retries integer NOT NULL DEFAULT 3 CHECK (max_retries BETWEEN 1 AND 5),
  retry_interval_minutes integer NOT NULL DEFAULT 60 CHECK (retry_interval_minutes BETWEEN 10 AND 4320),
  status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused', 'stopped')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_organization_idx ON campaigns (organization_id, created_at);

-- Trigram indexes make the leads' free-text search (ILIKE '%text%') an index scan. The
-- extension lives in public so that every schema of a server (tests give each run its own)
-- shares the one installation.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- RFC 7396 JSON Merge Patch, applied inside the UPDATE so concurrent merges never lose a
-- key: objects merge key by key (recursively), null removes a key, anything else replaces.
CREATE FUNCTION jsonb_merge_patch(target jsonb, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  merged jsonb;
  patch_key text;
  patch_value jsonb;
BEGIN
  IF patch IS NULL OR jsonb_typeof(patch) <> 'object' THEN
    RETURN patch;
  END IF;
  merged := CASE WHEN jsonb_typeof(target) = 'object' THEN target ELSE '{}'::jsonb END;
  FOR patch_key, patch_value IN SELECT key, value FROM jsonb_each(patch) LOOP
    IF jsonb_typeof(patch_value) = 'null' THEN
      merged := merged - patch_key;
    ELSE
      merged := merged || jsonb_build_object(patch_key, jsonb_merge_patch(merged -> patch_key, patch_value));
    END IF;
  END LOOP;
  RETURN merged;
END
$$;

-- Custom fields stay bounded however many merges race: at most 200 top-level keys and
-- 64 KiB of JSON text.
CREATE FUNCTION lead_custom_fields_within_bounds(fields jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT jsonb_typeof(fields) = 'object'
     AND (SELECT count(*) FROM jsonb_object_keys(fields)) <= 200
     AND octet_length(fields::text) <= 65536
$$;

CREATE TABLE leads (
  id text PRIMARY KEY,
  -- Autocalls addresses leads by integer
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  organization_id text NOT NULL REFERENCES organizations(id),
  owner_id text REFERENCES users(id),
  first_name text,
  last_name text,
  name text,
  email text,
  phone text,
  timezone text,
  source text,
  status text NOT NULL DEFAULT 'created',
  pipeline_id text REFERENCES pipelines(id),
  stage_id text REFERENCES pipeline_stages(id),
  agent_id text REFERENCES agents(id),
  campaign_id text REFERENCES campaigns(id),
  process_id text REFERENCES prompts(id),
  configuration_id text REFERENCES lead_management_configs(id),
  -- Apten additionalInfo, Autocalls variables, Convocore metaData: one JSONB, merged in SQL
  additional_info jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT leads_additional_info_bounds CHECK (lead_custom_fields_within_bounds(additional_info)),
  assigned_to jsonb,
  hot_score integer NOT NULL DEFAULT 0 CHECK (hot_score BETWEEN 0 AND 100),
  hot_label text NOT NULL DEFAULT 'cold' CHECK (hot_label IN ('hot', 'warm', 'cold')),
  last_activity_date timestamptz,
  is_ai_on boolean NOT NULL DEFAULT true,
  opted_out boolean NOT NULL DEFAULT false,
  has_replied boolean NOT NULL DEFAULT false,
  convo_id text,
  -- the follow-up schedule is lead state: rescheduling is one UPDATE
  follow_up_config jsonb,
  follow_up_step integer,
  next_follow_up_at timestamptz,
  use_strategies_for_follow_ups boolean NOT NULL DEFAULT false,
  -- what makes a lead a duplicate of another (normally its phone, else its email);
  -- null where a surface explicitly allows duplicates
  dedupe_key text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
)
-- room on each page for the new version of an updated row, so the frequent updates that
-- touch no indexed column (custom fields, stage, heat, version) stay heap-only (HOT)
WITH (fillfactor = 85);
CREATE UNIQUE INDEX leads_dedupe_key ON leads (organization_id, dedupe_key)
  WHERE deleted_at IS NULL AND dedupe_key IS NOT NULL;
CREATE INDEX leads_listing_idx ON leads (organization_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX leads_phone_idx ON leads (organization_id, phone) WHERE deleted_at IS NULL;
CREATE INDEX leads_email_idx ON leads (organization_id, lower(email)) WHERE deleted_at IS NULL;
-- free text over name, email and phone: the expression must match listLeadRows' exactly
CREATE INDEX leads_search_idx ON leads
  USING gin ((coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '')) public.gin_trgm_ops)
  WHERE deleted_at IS NULL;
CREATE INDEX leads_due_idx ON leads (next_follow_up_at) WHERE deleted_at IS NULL AND next_follow_up_at IS NOT NULL;

CREATE TABLE lead_activities (
  -- chosen by the client where a vendor contract says so (Convocore crmActivities), so it is
  -- unique within its lead only
  id text NOT NULL,
  organization_id text NOT NULL REFERENCES organizations(id),
  lead_id text NOT NULL REFERENCES leads(id),
  type text NOT NULL CHECK (type IN ('Message', 'Call', 'Email', 'Demo', 'Meeting', 'Follow-Up', 'Note',
    'Stage Change', 'Handoff', 'System')),
  title text,
  date timestamptz,
  due_date timestamptz,
  completed boolean NOT NULL DEFAULT false,
  responded boolean NOT NULL DEFAULT false,
  first_channel text,
  first_engaged boolean,
  second_channel text,
  second_engaged boolean,
  note text,
  notes_history jsonb NOT NULL DEFAULT '[]',
  metadata jsonb NOT NULL DEFAULT '{}',
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, lead_id, id)
);
-- a lead's timeline is read through the primary key's (organization_id, lead_id) prefix;
-- one index fewer to maintain on every activity a change writes

-- append-only change log of a lead: who, when, which fields, old and new values
CREATE TABLE lead_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  lead_id text NOT NULL REFERENCES leads(id),
  actor_user_id text,
  actor text NOT NULL,
  kind text NOT NULL,
  changes jsonb NOT NULL DEFAULT '{}',
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lead_events_lead_idx ON lead_events (organization_id, lead_id, id);

CREATE TABLE stage_history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  lead_id text NOT NULL REFERENCES leads(id),
  from_stage_id text,
  to_stage_id text NOT NULL,
  source text,
  configuration_id text,
  changed_by text,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stage_history_lead_idx ON stage_history (organization_id, lead_id, at);
CREATE INDEX stage_history_metrics_idx ON stage_history (organization_id, at);
