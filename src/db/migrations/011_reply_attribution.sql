-- An inbound SMS belongs to the lead most recently sent something at that number.
CREATE INDEX messages_sent_to_idx ON messages (to_address, sent_at DESC)
  WHERE direction = 'outbound' AND sent_at IS NOT NULL;
