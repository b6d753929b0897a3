-- GET /api/messages without a status filter lists an organization's messages newest first:
-- without this index that was a scan and sort of all of them (50 ms at 200,000 messages).
CREATE INDEX messages_listing_idx ON messages (organization_id, created_at DESC, id DESC);
