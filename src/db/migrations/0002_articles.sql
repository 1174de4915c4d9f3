-- Articles in PostgreSQL (`[database] articles = true`): one row per
-- article, written by a CMS directly or by `herald db import FOLDER`.
-- README's "Articles in PostgreSQL" documents every column.
--
-- Following changes: every write to a row stamps it (trigger below) with
-- `change_seq` (a sequence) and `change_xid` (the writing transaction's id),
-- and every statement that writes notifies channel `herald_articles` with
-- the table's schema as payload. Replicas re-read the rows whose
-- `change_xid` is at least the `xmin` of their previous look, so a
-- transaction that commits after a later-numbered one is never skipped.
-- A DELETE of a live row becomes a soft deletion (`deleted_at` set), so
-- that every replica hears of it; deleting a row already soft-deleted
-- removes it for good.

CREATE SEQUENCE articles_change_seq;

CREATE TABLE articles (
    key TEXT PRIMARY KEY CHECK (key <> ''),
    id TEXT,
    title TEXT,
    date TIMESTAMPTZ,
    lastmod TIMESTAMPTZ,
    publish_date TIMESTAMPTZ,
    expiry_date TIMESTAMPTZ,
    draft BOOLEAN NOT NULL DEFAULT false,
    summary TEXT,
    authors TEXT[] NOT NULL DEFAULT '{}',
    tags TEXT[] NOT NULL DEFAULT '{}',
    categories TEXT[] NOT NULL DEFAULT '{}',
    section TEXT,
    language TEXT,
    slug TEXT,
    url TEXT,
    translation_key TEXT,
    images JSONB NOT NULL DEFAULT '[]',
    sitemap BOOLEAN NOT NULL DEFAULT true,
    body TEXT NOT NULL DEFAULT '',
    body_format TEXT NOT NULL DEFAULT 'markdown' CHECK (body_format IN ('markdown', 'html')),
    deleted_at TIMESTAMPTZ,
    -- Set by the trigger on every write; whatever a writer puts here is replaced.
    change_seq BIGINT NOT NULL DEFAULT 0,
    change_xid XID8 NOT NULL DEFAULT '0',
    changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX articles_by_change_xid ON articles (change_xid);

CREATE FUNCTION herald_articles_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_seq := nextval(format('%I.articles_change_seq', TG_TABLE_SCHEMA)::regclass);
    NEW.change_xid := pg_current_xact_id();
    NEW.changed_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER articles_stamp BEFORE INSERT OR UPDATE ON articles
    FOR EACH ROW EXECUTE FUNCTION herald_articles_stamp();

CREATE FUNCTION herald_articles_soft_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.deleted_at IS NULL THEN
        EXECUTE format('UPDATE %I.%I SET deleted_at = now() WHERE key = $1', TG_TABLE_SCHEMA, TG_TABLE_NAME)
            USING OLD.key;
        RETURN NULL;
    END IF;
    RETURN OLD;
END $$;
CREATE TRIGGER articles_soft_delete BEFORE DELETE ON articles
    FOR EACH ROW EXECUTE FUNCTION herald_articles_soft_delete();

CREATE FUNCTION herald_articles_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('herald_articles', TG_TABLE_SCHEMA);
    RETURN NULL;
END $$;
CREATE TRIGGER articles_notify AFTER INSERT OR UPDATE OR DELETE ON articles
    FOR EACH STATEMENT EXECUTE FUNCTION herald_articles_notify();
