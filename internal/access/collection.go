package access

import (
	"context"
	"fmt"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/store"
)

// Granter is what creating a sharing group needs of the store.
type Granter interface {
	Org(ctx context.Context, idOrName string) (store.Org, error)
	CreateCollection(ctx context.Context, c store.Collection) (store.Collection, error)
	SetGrant(ctx context.Context, g store.Grant) error
}

// CreateCollection creates a sharing group and grants read to the
// organisations named in read and write to those in write. Every name is
// resolved before anything is created, so an unknown organisation (an
// error wrapping store.ErrNotFound) leaves no collection behind. The
// command line and the admin API both create collections through it.
func CreateCollection(ctx context.Context, s Granter, c store.Collection, read, write []string) (store.Collection, error) {
	grants := map[string]*store.Grant{}
	var order []string
	for _, list := range []struct {
		names []string
		write bool
	}{{read, false}, {write, true}} {
		for _, name := range list.names {
			o, err := s.Org(ctx, strings.TrimSpace(name))
			if err != nil {
				return c, fmt.Errorf("granting %q: %w", name, err)
			}
			g := grants[o.ID]
			if g == nil {
				g = &store.Grant{Org: o.ID}
				grants[o.ID] = g
				order = append(order, o.ID)
			}
			if list.write {
				g.Write = true
			} else {
				g.Read = true
			}
		}
	}
	c, err := s.CreateCollection(ctx, c)
	if err != nil {
		return c, err
	}
	for _, id := range order {
		g := grants[id]
		g.Collection = c.ID
		if err := s.SetGrant(ctx, *g); err != nil {
			return c, err
		}
	}
	return c, nil
}
