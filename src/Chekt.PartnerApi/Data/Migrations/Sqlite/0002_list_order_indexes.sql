-- Lists page through a parent's children in id order (WHERE parent = ? AND id > ? ORDER BY id LIMIT ?):
-- these indexes answer that as one ordered range scan, without a sort.
CREATE INDEX ix_sites_dealer_id ON sites (dealer_id, id);
CREATE INDEX ix_contacts_site_id ON contacts (site_id, id);
CREATE INDEX ix_devices_site_id ON devices (site_id, id);
