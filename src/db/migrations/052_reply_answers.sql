-- A recorded reply still to be answered by the AI. The process that recorded it answers it in
-- the background under a lease until `answer_due_at`; if that process dies first, a worker
-- answers it once the lease has ended. Writing the answer clears it, in the same transaction.
ALTER TABLE messages
  ADD COLUMN answer_due_at timestamptz,
  ADD COLUMN answer_attempts integer NOT NULL DEFAULT 0;

CREATE INDEX messages_answer_due_idx ON messages (answer_due_at) WHERE answer_due_at IS NOT NULL;
