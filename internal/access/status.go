package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bulwark-intel/bulwark/internal/store"
)

// statusKeeper is the optional store capability of keeping TAXII status
// resources (sqlstore has it): opaque documents, each owned by the
// organisation whose request made it.
type statusKeeper interface {
	PutStatus(ctx context.Context, id, owner string, created time.Time, body []byte) error
	// GetStatus returns store.ErrNotFound for an unknown id.
	GetStatus(ctx context.Context, id string) (owner string, created time.Time, body []byte, err error)
	DeleteStatuses(ctx context.Context, createdBefore time.Time) (int, error)
}

// ErrNoStatusStore says the store cannot keep statuses; the caller keeps
// them itself.
var ErrNoStatusStore = errors.New("the store does not keep statuses")

// SaveStatus keeps a status document made by the viewer's request.
func (a *Service) SaveStatus(ctx context.Context, v Viewer, id string, created time.Time, body []byte) error {
	sk, ok := a.s.(statusKeeper)
	if !ok {
		return ErrNoStatusStore
	}
	if v.Anonymous || v.Org.ID == "" {
		return fmt.Errorf("%w: anonymous statuses", ErrForbidden)
	}
	return sk.PutStatus(ctx, id, v.Org.ID, created, body)
}

// Status returns a status document if the viewer's organisation made it
// and it was created at or after notBefore; otherwise ErrNotFound, the same
// for a status that never existed, has expired or is another's.
func (a *Service) Status(ctx context.Context, v Viewer, id string, notBefore time.Time) ([]byte, error) {
	sk, ok := a.s.(statusKeeper)
	if !ok {
		return nil, ErrNoStatusStore
	}
	if v.Anonymous || v.Org.ID == "" {
		return nil, ErrNotFound
	}
	owner, created, body, err := sk.GetStatus(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (owner != v.Org.ID || created.Before(notBefore))) {
		return nil, fmt.Errorf("status %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return body, nil
}

// ExpireStatuses deletes the statuses created before a time.
func (a *Service) ExpireStatuses(ctx context.Context, before time.Time) (int, error) {
	sk, ok := a.s.(statusKeeper)
	if !ok {
		return 0, ErrNoStatusStore
	}
	return sk.DeleteStatuses(ctx, before)
}
