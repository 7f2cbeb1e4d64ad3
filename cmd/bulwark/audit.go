package main

import (
	"context"
	"fmt"
	"time"
)

func init() {
	register(command{name: "audit", usage: "show the audit log of reads and writes", run: runAudit})
}

func runAudit(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "audit", "[--since 24h] [--limit N]")
	db := dbFlag(fs)
	since := fs.Duration("since", 24*time.Hour, "how far back")
	limit := fs.Int("limit", 1000, "most entries shown")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	log, err := s.AuditLog(ctx, time.Now().Add(-*since), *limit)
	if err != nil {
		return err
	}
	for _, a := range log {
		fmt.Fprintf(e.stdout, "%s  %-20s %-14s %s  %d objects  %s\n", a.Time.Format(time.RFC3339), a.Org, a.Action, a.Collection, a.Count, a.Detail)
	}
	return nil
}
