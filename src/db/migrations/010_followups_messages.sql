-- Follow-up engine: business-hours deferral visible on the lead, strategies, and the
-- messages table, which is both the conversation log and the delivery outbox.

ALTER TABLE leads ADD COLUMN follow_up_deferred_until timestamptz;

CREATE TABLE strategies (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  name text NOT NULL,
  instructions text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX strategies_organization_idx ON strategies (organization_id, created_at);

CREATE TABLE messages (
  id text PRIMARY KEY,
  organization_id text NOT NULL REFERENCES organizations(id),
  lead_id text NOT NULL REFERENCES leads(id),
  direction text NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  channel text NOT NULL CHECK (channel IN ('text', 'call', 'email')),
  -- what created it: a cadence step, a user's manual send, intake's first message, a call retry, a lead's reply
  origin text NOT NULL CHECK (origin IN ('follow_up', 'manual', 'first_message', 'call_retry', 'reply')),
  status text NOT NULL CHECK (status IN (
    'awaiting_approval', -- waits for a rep; the approval flow flips it to queued
    'queued',            -- waiting for delivery at next_attempt_at
    'failed',            -- the last attempt failed; retried at next_attempt_at
    'dead',              -- gave up after max attempts
    'sent',              -- accepted by the provider
    'delivered',         -- confirmed by the carrier (or the log provider), or a call answered
    'undelivered',       -- the carrier reported it could not deliver
    'no_answer',         -- a call that was not answered (no-answer, busy, failed, canceled)
    'skipped',           -- never sent: the lead cannot be reached on that channel
    'canceled',          -- never sent: the lead replied, opted out or was deleted first
    'received'           -- inbound
  )),
  subject text,
  content text NOT NULL,
  to_address text,
  from_address text,
  follow_up_step integer,
  strategy_id text REFERENCES strategies(id) ON DELETE SET NULL,
  voicemail_enabled boolean NOT NULL DEFAULT false,
  -- for calls: 1 for the first call of a touch, 2.. for retries of an unanswered one
  call_attempt integer NOT NULL DEFAULT 1,
  -- one key per intended send: retries reuse it, and the provider dedupes on it
  idempotency_key text NOT NULL,
  provider text,
  provider_message_id text,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  last_error text,
  created_by text,
  sent_at timestamptz,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX messages_idempotency_key ON messages (idempotency_key);
CREATE INDEX messages_lead_idx ON messages (organization_id, lead_id, created_at);
CREATE INDEX messages_status_idx ON messages (organization_id, status, created_at DESC);
-- the outbox: what delivery claims
CREATE INDEX messages_outbox_idx ON messages (next_attempt_at) WHERE status IN ('queued', 'failed');
CREATE INDEX messages_provider_id_idx ON messages (provider_message_id) WHERE provider_message_id IS NOT NULL;

-- what the dispatcher claims: only leads it may touch, so paused or opted-out leads with an
-- old due time are never rescanned
CREATE INDEX leads_dispatch_idx ON leads (next_follow_up_at)
  WHERE deleted_at IS NULL AND is_ai_on AND NOT opted_out AND next_follow_up_at IS NOT NULL;

-- an inbound SMS finds its leads by phone alone (the carrier does not say which organization)
CREATE INDEX leads_phone_any_organization_idx ON leads (phone) WHERE deleted_at IS NULL;
