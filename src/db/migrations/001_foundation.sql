-- Organizations (tenants), their users, prompts (AI processes), pipelines and
-- lead-management configurations. Ids are 24-hex strings made by the application.

CREATE TABLE organizations (
  id text PRIMARY KEY,
  name text NOT NULL,
  timezone text NOT NULL DEFAULT 'UTC',
  default_country text NOT NULL DEFAULT 'US',
  -- sending window for automatic touches, in the lead's timezone; ISO weekdays (1 = Monday)
  send_window_start time NOT NULL DEFAULT '09:00',
  send_window_end time NOT NULL DEFAULT '20:00',
  send_days smallint[] NOT NULL DEFAULT '{1,2,3,4,5,6}',
  long_term_interval_hours integer NOT NULL DEFAULT 720,
  email_enabled boolean NOT NULL DEFAULT true,
  default_follow_up_config jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  email text NOT NULL,
  password_hash text NOT NULL,
  full_name text,
  access_role text NOT NULL CHECK (access_role IN ('ADMIN', 'DEPARTMENT_HEAD', 'SALES_REP')),
  -- sha256 of the API key; the key itself is shown once and never stored
  api_key_hash text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_api_key_hash_key ON users (api_key_hash) WHERE api_key_hash IS NOT NULL;
CREATE INDEX users_organization_idx ON users (organization_id);

CREATE TABLE prompts (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  user_id text NOT NULL REFERENCES users(id),
  name text NOT NULL,
  content text NOT NULL DEFAULT '',
  description text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX prompts_organization_idx ON prompts (organization_id, created_at);

CREATE TABLE pipelines (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  name text NOT NULL,
  type text NOT NULL CHECK (type IN ('Contact', 'Application')),
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pipelines_organization_idx ON pipelines (organization_id, created_at);
-- one default pipeline of each type per organization
CREATE UNIQUE INDEX pipelines_default_key ON pipelines (organization_id, type) WHERE is_default;

CREATE TABLE pipeline_stages (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  pipeline_id text NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
  name text NOT NULL,
  color text,
  position integer NOT NULL
);
CREATE INDEX pipeline_stages_pipeline_idx ON pipeline_stages (pipeline_id, position);

CREATE TABLE lead_management_configs (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  user_id text NOT NULL REFERENCES users(id),
  configuration_name text NOT NULL,
  name text,
  description text,
  source text NOT NULL DEFAULT 'Unassigned',
  inbound_email text,
  -- the stage values as the client gave them (an _id or a name) and the stage they resolved to
  initial_stage text NOT NULL,
  initial_stage_id text NOT NULL REFERENCES pipeline_stages(id),
  default_process_id text NOT NULL REFERENCES prompts(id),
  is_autopilot boolean NOT NULL DEFAULT false,
  allow_recontact boolean NOT NULL DEFAULT false,
  starter_message text,
  cost_per_lead double precision NOT NULL DEFAULT 0 CHECK (cost_per_lead >= 0),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  pipeline_id text REFERENCES pipelines(id),
  pipeline_stage text,
  pipeline_stage_id text REFERENCES pipeline_stages(id),
  create_application boolean NOT NULL DEFAULT false,
  application_name text,
  application_status text,
  application_pipeline_id text REFERENCES pipelines(id),
  application_pipeline_stage text,
  application_pipeline_stage_id text REFERENCES pipeline_stages(id),
  forward_to_outreach boolean NOT NULL DEFAULT true,
  use_workflow_only boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- configurationName is unique per user, case-insensitively: the database decides races
CREATE UNIQUE INDEX lead_management_configs_name_key
  ON lead_management_configs (user_id, lower(configuration_name));
-- inbound mail finds its configuration by address across the whole deployment
CREATE UNIQUE INDEX lead_management_configs_inbound_email_key
  ON lead_management_configs (lower(inbound_email)) WHERE status = 'active' AND inbound_email IS NOT NULL;
CREATE INDEX lead_management_configs_organization_idx ON lead_management_configs (organization_id, created_at);

-- instance-wide settings that every node must share (e.g. the generated JWT secret)
CREATE TABLE instance_settings (
  key text PRIMARY KEY,
  value text NOT NULL
);
