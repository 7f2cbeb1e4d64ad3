package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/lookup"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

func init() {
	register(command{name: "actor", usage: "an actor by any alias: aliases, malware, techniques, campaigns, wallets, reports", run: runActor})
}

func runActor(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "actor", "[--json] [--max-tlp T] NAME")
	db := dbFlag(fs)
	asJSON := fs.Bool("json", false, "JSON output")
	maxTLP := fs.String("max-tlp", "red", "show nothing above this TLP")
	all := fs.Bool("all", false, "list every technique, wallet and report instead of the first 25")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: actor needs a NAME", errUsage)
	}
	name := strings.Join(pos, " ")
	tlp, err := stix.ParseTLP(*maxTLP)
	if err != nil {
		return fmt.Errorf("%w: --max-tlp: %v", errUsage, err)
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	p, err := lookup.Actor(ctx, s, name, lookup.Filter{MaxTLP: tlp})
	if errors.Is(err, lookup.ErrNoActor) {
		return fmt.Errorf("no actor called %q in %s", name, *db)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	limit := 25
	if *all {
		limit = 1 << 30
	}
	printActor(e.stdout, p, limit)
	return nil
}

func printActor(w io.Writer, p *lookup.ActorProfile, limit int) {
	title := p.Name
	if p.ExternalID != "" {
		title += " (" + p.ExternalID + ")"
	}
	fmt.Fprintln(w, title)
	if !strings.EqualFold(p.Query, p.Name) {
		fmt.Fprintf(w, "  found as: %s\n", p.Query)
	}
	if p.Country != "" {
		fmt.Fprintf(w, "  country: %s\n", p.Country)
	}
	if len(p.Aliases) > 0 {
		fmt.Fprintf(w, "  aliases: %s\n", strings.Join(p.Aliases, ", "))
	}
	fmt.Fprintf(w, "  sources: %d object(s):", len(p.Objects))
	for _, o := range p.Objects {
		fmt.Fprintf(w, " %s", o.ID)
	}
	fmt.Fprintln(w)
	list := func(title string, refs []lookup.Ref) {
		if len(refs) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s (%d):\n", title, len(refs))
		for i, r := range refs {
			if i == limit {
				fmt.Fprintf(w, "  … %d more (--all)\n", len(refs)-limit)
				break
			}
			id := r.ExternalID
			if id == "" {
				id = "-"
			}
			fmt.Fprintf(w, "  %-10s %s\n", id, r.Name)
		}
	}
	list("Techniques", p.Techniques)
	list("Malware and tools", p.Software)
	list("Campaigns", p.Campaigns)
	if len(p.Wallets) > 0 {
		fmt.Fprintf(w, "\nWallets (%d):\n", len(p.Wallets))
		// Every wallet, always: they are what an exchange acts on.
		for _, wl := range p.Wallets {
			asset := wl.Asset
			if asset == "" {
				asset = "?"
			}
			fmt.Fprintf(w, "  %-5s %s  listed by: %s  [TLP:%s]\n", asset, wl.Address, strings.Join(wl.Sources, ", "), strings.ToUpper(wl.TLP))
		}
	}
	fmt.Fprintf(w, "\nIndicators: %d\n", p.Indicators)
	list("Reports", p.Reports)
	list("Related actors", p.Related)
}
