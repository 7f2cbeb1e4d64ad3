package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/store"
)

func init() {
	register(command{name: "org", usage: "manage organisations: org add NAME --clearance LEVEL | org list", run: runOrg})
}

func runOrg(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: org add NAME --clearance clear|green|amber|amber+strict|red, or org list", errUsage)
	}
	switch args[0] {
	case "add":
		fs := newFlags(e, "org add", "NAME --clearance clear|green|amber|amber+strict|red [--admin]")
		db := dbFlag(fs)
		clearance := fs.String("clearance", "", "highest TLP the organisation may read (required)")
		admin := fs.Bool("admin", false, "administrator: full access to every collection")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return fmt.Errorf("%w: org add takes one NAME (quote names with spaces)", errUsage)
		}
		if *clearance == "" {
			return fmt.Errorf("%w: org add needs --clearance", errUsage)
		}
		c, err := access.ParseClearance(*clearance)
		if err != nil {
			return fmt.Errorf("%w: --clearance: %v", errUsage, err)
		}
		s, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer s.Close()
		o, err := s.CreateOrg(ctx, store.Org{Name: pos[0], Clearance: c, Admin: *admin})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "organisation %q (%s) clearance TLP:%s identity %s\n", o.Name, o.ID, strings.ToUpper(o.Clearance.String()), o.Identity)
		return nil
	case "list":
		fs := newFlags(e, "org list", "")
		db := dbFlag(fs)
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		s, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer s.Close()
		orgs, err := s.ListOrgs(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tCLEARANCE\tADMIN\tID\tIDENTITY")
		for _, o := range orgs {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", o.Name, strings.ToUpper(o.Clearance.String()), o.Admin, o.ID, o.Identity)
		}
		return tw.Flush()
	}
	return fmt.Errorf("%w: unknown org subcommand %q", errUsage, args[0])
}
