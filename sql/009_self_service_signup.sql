-- Self-service sign-up: an organisation that registered itself waits for an admin's approval
-- before it reaches anyone (its ASF profile stays out of the directory and the matching, its
-- needs stay drafts). Organisations onboarded by an admin, and every one before this
-- migration, count as approved when created.
ALTER TABLE organisations ADD COLUMN approved_at timestamptz DEFAULT now();
CREATE INDEX organisations_pending ON organisations (created_at) WHERE approved_at IS NULL;
