package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

func init() {
	register(command{name: "collection", usage: "sharing groups: collection add TITLE --read ORG,… --write ORG,… [--default-tlp amber] [--public] | collection list", run: runCollection})
}

func runCollection(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: collection add TITLE … or collection list", errUsage)
	}
	switch args[0] {
	case "add":
		fs := newFlags(e, "collection add", "TITLE --read ORG,… --write ORG,… [--default-tlp amber] [--public] [--description D]")
		db := dbFlag(fs)
		read := fs.String("read", "", "organisations that may read")
		write := fs.String("write", "", "organisations that may write")
		defTLP := fs.String("default-tlp", "amber", "TLP of objects that carry none")
		public := fs.Bool("public", false, "anonymous viewers may read its TLP:CLEAR objects")
		desc := fs.String("description", "", "description")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return fmt.Errorf("%w: collection add takes one TITLE", errUsage)
		}
		tlp, err := stix.ParseTLP(*defTLP)
		if err != nil {
			return fmt.Errorf("%w: --default-tlp: %v", errUsage, err)
		}
		s, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer s.Close()
		c, err := access.CreateCollection(ctx, s, store.Collection{Title: pos[0], Description: *desc, DefaultTLP: tlp, Public: *public}, splitList(*read), splitList(*write))
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "collection %q id %s default TLP:%s public=%v\n", c.Title, c.ID, strings.ToUpper(c.DefaultTLP.String()), c.Public)
		return nil
	case "list":
		fs := newFlags(e, "collection list", "")
		db := dbFlag(fs)
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		s, err := openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer s.Close()
		cs, err := s.ListCollections(ctx)
		if err != nil {
			return err
		}
		for _, c := range cs {
			fmt.Fprintf(e.stdout, "%s  %-24s default TLP:%-12s public=%v\n", c.ID, c.Title, strings.ToUpper(c.DefaultTLP.String()), c.Public)
		}
		return nil
	}
	return fmt.Errorf("%w: unknown collection subcommand %q", errUsage, args[0])
}
