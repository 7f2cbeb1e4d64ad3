package main

import (
	"context"
	"fmt"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
)

func init() {
	register(command{name: "token", usage: "API tokens: token create ORG [--expires 720h] | token revoke ID | token list ORG", run: runToken})
}

func runToken(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: token create ORG, token revoke ID or token list ORG", errUsage)
	}
	fs := newFlags(e, "token "+args[0], "ORG|ID")
	db := dbFlag(fs)
	expires := fs.Duration("expires", 0, "lifetime of a new token (0: no expiry)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: token %s takes one argument", errUsage, args[0])
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	switch args[0] {
	case "create":
		var exp time.Time
		if *expires > 0 {
			exp = time.Now().Add(*expires)
		}
		acc := access.New(s)
		defer acc.Close()
		secret, id, err := acc.NewToken(ctx, pos[0], exp)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "token id %s for %q (shown once; store it now)\n", id, pos[0])
		// Scripts take the last word of the last line.
		fmt.Fprintf(e.stdout, "token: %s\n", secret)
		return nil
	case "revoke":
		if err := s.RevokeToken(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "revoked %s\n", pos[0])
		return nil
	case "list":
		o, err := s.Org(ctx, pos[0])
		if err != nil {
			return err
		}
		toks, err := s.ListTokens(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, t := range toks {
			state := "active"
			switch {
			case t.Revoked:
				state = "revoked"
			case !t.Expires.IsZero() && time.Now().After(t.Expires):
				state = "expired"
			}
			fmt.Fprintf(e.stdout, "%s  created %s  %s\n", t.ID, t.Created.Format(time.RFC3339), state)
		}
		return nil
	}
	return fmt.Errorf("%w: unknown token subcommand %q", errUsage, args[0])
}
