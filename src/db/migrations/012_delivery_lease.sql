-- Delivery claims outbox rows with a lease instead of holding their locks while a provider
-- answers: a claimed row is `sending`, and its next_attempt_at is the lease's end, after
-- which another worker may claim it again (same idempotency key). attempts counts claims and
-- is the lease's fencing token: an outcome is recorded only by the claim that holds it.
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check CHECK (status IN (
  'awaiting_approval', 'queued', 'sending', 'failed', 'dead', 'sent', 'delivered', 'undelivered', 'no_answer', 'skipped',
  'canceled', 'received'
));
DROP INDEX messages_outbox_idx;
CREATE INDEX messages_outbox_idx ON messages (next_attempt_at) WHERE status IN ('queued', 'failed', 'sending');
