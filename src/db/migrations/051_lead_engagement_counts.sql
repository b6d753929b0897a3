-- The heat score counts a lead's responded activities and its completed demos and meetings.
-- Counting them on every update of the lead read its whole timeline (a Stage Change per
-- stage move) on the hottest path; the lead row now keeps both counts, maintained by the
-- triggers below for every write to the timeline, whoever makes it.
ALTER TABLE leads
  ADD COLUMN replies integer NOT NULL DEFAULT 0,
  ADD COLUMN completed_meetings integer NOT NULL DEFAULT 0;

UPDATE leads l SET replies = a.replies, completed_meetings = a.completed_meetings
  FROM (SELECT organization_id, lead_id,
               count(*) FILTER (WHERE responded)::int AS replies,
               count(*) FILTER (WHERE completed AND type IN ('Demo', 'Meeting'))::int AS completed_meetings
          FROM lead_activities GROUP BY organization_id, lead_id) a
 WHERE l.organization_id = a.organization_id AND l.id = a.lead_id;

CREATE FUNCTION count_lead_engagement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  replies_delta integer := 0;
  meetings_delta integer := 0;
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    replies_delta := replies_delta - OLD.responded::int;
    meetings_delta := meetings_delta - (OLD.completed AND OLD.type IN ('Demo', 'Meeting'))::int;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    replies_delta := replies_delta + NEW.responded::int;
    meetings_delta := meetings_delta + (NEW.completed AND NEW.type IN ('Demo', 'Meeting'))::int;
  END IF;
  IF replies_delta <> 0 OR meetings_delta <> 0 THEN
    UPDATE leads SET replies = replies + replies_delta, completed_meetings = completed_meetings + meetings_delta
     WHERE organization_id = COALESCE(NEW.organization_id, OLD.organization_id) AND id = COALESCE(NEW.lead_id, OLD.lead_id);
  END IF;
  RETURN NULL;
END;
$$;

-- an activity that is neither a reply nor a completed demo or meeting (most: stage changes,
-- sent messages) fires nothing
CREATE TRIGGER lead_activities_count_inserted AFTER INSERT ON lead_activities FOR EACH ROW
  WHEN (NEW.responded OR (NEW.completed AND NEW.type IN ('Demo', 'Meeting')))
  EXECUTE FUNCTION count_lead_engagement();
CREATE TRIGGER lead_activities_count_updated AFTER UPDATE OF responded, completed, type ON lead_activities FOR EACH ROW
  WHEN (OLD.responded IS DISTINCT FROM NEW.responded OR OLD.completed IS DISTINCT FROM NEW.completed OR OLD.type IS DISTINCT FROM NEW.type)
  EXECUTE FUNCTION count_lead_engagement();
CREATE TRIGGER lead_activities_count_deleted AFTER DELETE ON lead_activities FOR EACH ROW
  WHEN (OLD.responded OR (OLD.completed AND OLD.type IN ('Demo', 'Meeting')))
  EXECUTE FUNCTION count_lead_engagement();
