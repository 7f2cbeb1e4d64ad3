package sqlstore

// The schema is shared by both backends; Dialect adapts the few spots where
// SQLite and PostgreSQL differ (row ids, blob type, locking).
//
// clock        one row: the last date_added handed out; writers lock it.
// objects      one row per stored version (id, version); raw JSON as given.
//              latest marks the newest version of each id.
// memberships  one row per (collection, version): date_added in microseconds,
//              unique and strictly increasing within a collection (and,
//              from the one clock, across the store).
// obj_values   normalised observable values an object version is about.
// names        normalised names and aliases of an object version.
// generations  one row: policy, raised in the same transaction as every
//              change to organisations, tokens, grants or collections; and
//              data, raised with every change to memberships (Put, Remove).
//              A server's caches read both in one cheap query per request
//              and so notice any process's change at once (generations.go).
// collection_changes  per collection, raised with every change to its
//              memberships: says which collection a data change touched.
// collection_removals per collection, raised with every Remove: readers
//              that follow a collection by what was added (the screening
//              index) reload when it moves.
// statuses     TAXII status resources (opaque JSON) with their owner.
// edges        relationships and embedded references of an object version.
//
// Index rows hang off object versions; queries join objects.latest = 1 to
// see only the current state, so a new version needs no index deletes.

func schema(d Dialect) []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS collections (
			seq ` + d.Serial() + ` PRIMARY KEY,
			id TEXT NOT NULL UNIQUE,
			title TEXT NOT NULL UNIQUE,
			description TEXT NOT NULL DEFAULT '',
			default_tlp INTEGER NOT NULL,
			public INTEGER NOT NULL DEFAULT 0,
			created BIGINT NOT NULL
		)`,
		// One row: the last date_added handed out in any collection. Writers
		// lock it, which serialises them (see Put).
		`CREATE TABLE IF NOT EXISTS clock (
			id INTEGER PRIMARY KEY,
			last_added BIGINT NOT NULL
		)`,
		`INSERT INTO clock (id, last_added) VALUES (1, 0) ON CONFLICT DO NOTHING`,
		`CREATE TABLE IF NOT EXISTS generations (
			id INTEGER PRIMARY KEY,
			policy BIGINT NOT NULL,
			data BIGINT NOT NULL
		)`,
		`INSERT INTO generations (id, policy, data) VALUES (1, 0, 0) ON CONFLICT DO NOTHING`,
		`CREATE TABLE IF NOT EXISTS collection_changes (
			coll BIGINT PRIMARY KEY REFERENCES collections (seq),
			generation BIGINT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS collection_removals (
			coll BIGINT PRIMARY KEY REFERENCES collections (seq),
			generation BIGINT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS objects (
			seq ` + d.Serial() + ` PRIMARY KEY,
			id TEXT NOT NULL,
			version BIGINT NOT NULL,
			type TEXT NOT NULL,
			spec_version TEXT NOT NULL,
			created_by TEXT NOT NULL DEFAULT '',
			tlp INTEGER NOT NULL DEFAULT 0,
			revoked INTEGER NOT NULL DEFAULT 0,
			latest INTEGER NOT NULL DEFAULT 1,
			source TEXT NOT NULL DEFAULT '',
			raw ` + d.Blob() + ` NOT NULL,
			UNIQUE (id, version)
		)`,
		`CREATE INDEX IF NOT EXISTS objects_type_latest ON objects (type, latest)`,
		`CREATE TABLE IF NOT EXISTS memberships (
			coll BIGINT NOT NULL REFERENCES collections (seq),
			date_added BIGINT NOT NULL,
			obj BIGINT NOT NULL REFERENCES objects (seq),
			PRIMARY KEY (coll, date_added)
		)` + d.WithoutRowID(),
		`CREATE UNIQUE INDEX IF NOT EXISTS memberships_obj ON memberships (obj, coll)`,
		`CREATE TABLE IF NOT EXISTS obj_values (
			value TEXT NOT NULL,
			obj BIGINT NOT NULL REFERENCES objects (seq),
			PRIMARY KEY (value, obj)
		)` + d.WithoutRowID(),
		`CREATE TABLE IF NOT EXISTS names (
			name TEXT NOT NULL,
			obj BIGINT NOT NULL REFERENCES objects (seq),
			PRIMARY KEY (name, obj)
		)` + d.WithoutRowID(),
		`CREATE TABLE IF NOT EXISTS edges (
			src TEXT NOT NULL,
			dst TEXT NOT NULL,
			kind TEXT NOT NULL,
			via TEXT NOT NULL,
			obj BIGINT NOT NULL REFERENCES objects (seq)
		)`,
		`CREATE INDEX IF NOT EXISTS edges_src ON edges (src)`,
		`CREATE INDEX IF NOT EXISTS edges_dst ON edges (dst)`,
		`CREATE TABLE IF NOT EXISTS recipients (
			obj BIGINT NOT NULL REFERENCES objects (seq),
			identity TEXT NOT NULL,
			PRIMARY KEY (obj, identity)
		)` + d.WithoutRowID(),
		`CREATE TABLE IF NOT EXISTS orgs (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL UNIQUE,
			identity TEXT NOT NULL,
			clearance INTEGER NOT NULL,
			admin INTEGER NOT NULL DEFAULT 0,
			created BIGINT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS tokens (
			id TEXT PRIMARY KEY,
			org TEXT NOT NULL REFERENCES orgs (id),
			hash ` + d.Blob() + ` NOT NULL UNIQUE,
			created BIGINT NOT NULL,
			expires BIGINT NOT NULL DEFAULT 0,
			revoked INTEGER NOT NULL DEFAULT 0
		)`,
		`CREATE TABLE IF NOT EXISTS grants (
			coll TEXT NOT NULL REFERENCES collections (id),
			org TEXT NOT NULL REFERENCES orgs (id),
			can_read INTEGER NOT NULL DEFAULT 0,
			can_write INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (coll, org)
		)`,
		`CREATE TABLE IF NOT EXISTS statuses (
			id TEXT PRIMARY KEY,
			owner TEXT NOT NULL,
			created BIGINT NOT NULL,
			body ` + d.Blob() + ` NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS statuses_created ON statuses (created)`,
		`CREATE TABLE IF NOT EXISTS audit (
			seq ` + d.Serial() + ` PRIMARY KEY,
			ts BIGINT NOT NULL,
			org TEXT NOT NULL,
			action TEXT NOT NULL,
			coll TEXT NOT NULL,
			n INTEGER NOT NULL,
			detail TEXT NOT NULL
		)`,
	}
}
