-- An alert's own history (AlertType.history) without reading its project's other alerts' events.
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, seq);
