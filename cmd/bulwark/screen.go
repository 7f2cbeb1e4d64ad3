package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/chain/screen"
)

func init() {
	register(command{name: "screen", usage: "screen crypto addresses against DPRK-linked and sanctioned wallets: screen ADDR… | --file F", run: runScreen})
}

func runScreen(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "screen", "[--json] ADDR… | --file F")
	db := dbFlag(fs)
	file := fs.String("file", "", "file with one address a line (- for stdin)")
	asJSON := fs.Bool("json", false, "JSON output")
	addrs, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *file != "" {
		f := e.stdin
		if *file != "-" {
			fh, err := os.Open(*file)
			if err != nil {
				return err
			}
			defer fh.Close()
			f = fh
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 64<<10)
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
				addrs = append(addrs, l)
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%w: screen needs addresses or --file", errUsage)
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	var all []screen.Result
	for start := 0; start < len(addrs); start += screen.MaxBatch {
		res, err := screen.Screen(ctx, s, addrs[start:min(start+screen.MaxBatch, len(addrs))])
		if err != nil {
			return err
		}
		all = append(all, res...)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(all)
	}
	for _, r := range all {
		if r.Error != "" {
			fmt.Fprintf(e.stdout, "%-8s %s  invalid: %s\n", "-", r.Input, r.Error)
			continue
		}
		fmt.Fprintf(e.stdout, "%-8s %s  (%s)\n", strings.ToUpper(r.Risk), r.Canonical, strings.Join(r.Chains, "/"))
		for _, reason := range r.Reasons {
			line := "         " + reason.Risk + ": " + reason.Name
			if reason.Actor != "" {
				line += " — attributed to " + reason.Actor
			}
			if reason.Source != "" {
				line += " — listed by " + reason.Source
			}
			fmt.Fprintf(e.stdout, "%s [TLP:%s]\n", line, strings.ToUpper(reason.TLP))
		}
	}
	return nil
}
