-- The answer to a lead's reply (written by the model, or its fallback) was recorded with
-- origin `manual`, as if a rep had typed it. It has its own origin now, and the answers
-- already sent are relabelled: those queued on autopilot (key `reply:…`) and those a rep
-- approved from the queue (linked from an approval whose purpose is `reply`).
ALTER TABLE messages DROP CONSTRAINT messages_origin_check;
ALTER TABLE messages ADD CONSTRAINT messages_origin_check
  CHECK (origin IN ('follow_up', 'manual', 'first_message', 'call_retry', 'reply', 'reply_answer'));

UPDATE messages m SET origin = 'reply_answer'
 WHERE m.origin = 'manual'
   AND (m.idempotency_key LIKE 'reply:%'
        OR EXISTS (SELECT 1 FROM approvals a
                    WHERE a.organization_id = m.organization_id AND a.message_id = m.id AND a.purpose = 'reply'));
