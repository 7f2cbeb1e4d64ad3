package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/postgres"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

// defaultDB is the embedded store used when --db is not given.
var defaultDB = filepath.Join("bulwark-data", "bulwark.db")

// defaultCollection receives imports that name no collection.
const defaultCollection = "default"

func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", defaultDB, "store: a SQLite file (created if missing) or a postgres:// URL")
}

// openStore opens the backend the --db value names.
func openStore(ctx context.Context, db string, opts ...sqlite.Option) (store.Store, error) {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return postgres.Open(ctx, db)
	}
	return sqlite.Open(ctx, strings.TrimPrefix(db, "sqlite://"), opts...)
}

// ensureCollection finds a collection by id or title, creating it (by
// title) when missing.
func ensureCollection(ctx context.Context, s store.Store, name string, tlp stix.TLP) (store.Collection, error) {
	c, err := s.Collection(ctx, name)
	if err == nil {
		return c, nil
	}
	c, err = s.CreateCollection(ctx, store.Collection{Title: name, DefaultTLP: tlp})
	if err != nil {
		return c, fmt.Errorf("collection %q: %w", name, err)
	}
	return c, nil
}
