package feed

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// Writer is the part of the store an import needs.
type Writer interface {
	Put(ctx context.Context, collection string, items []store.PutItem) (store.PutResult, error)
}

// DefaultBatch is how many objects go into one store transaction.
const DefaultBatch = 2000

// maxExamples bounds the rejection messages a Summary keeps.
const maxExamples = 20

// Summary tallies one import.
type Summary struct {
	Read        int // records read: objects plus rejections
	Created     int
	NewVersions int
	Unchanged   int
	Stale       int // older than the current version: kept as history only
	Rejected    int
	Reasons     map[string]int // rejection count by kind of fault
	Examples    []string       // the first rejections, in full
	Elapsed     time.Duration
}

// Add merges another summary into s.
func (s *Summary) Add(o Summary) {
	s.Read += o.Read
	s.Created += o.Created
	s.NewVersions += o.NewVersions
	s.Unchanged += o.Unchanged
	s.Stale += o.Stale
	s.Rejected += o.Rejected
	for k, v := range o.Reasons {
		if s.Reasons == nil {
			s.Reasons = map[string]int{}
		}
		s.Reasons[k] += v
	}
	for _, e := range o.Examples {
		if len(s.Examples) < maxExamples {
			s.Examples = append(s.Examples, e)
		}
	}
	s.Elapsed += o.Elapsed
}

// Imported is the number of objects stored by the import (new objects and
// new versions).
func (s Summary) Imported() int { return s.Created + s.NewVersions }

// String renders the one-line summary the CLI prints.
func (s Summary) String() string {
	line := fmt.Sprintf("read %d, imported %d (new %d, new versions %d), unchanged %d, stale %d, rejected %d",
		s.Read, s.Imported(), s.Created, s.NewVersions, s.Unchanged, s.Stale, s.Rejected)
	if len(s.Reasons) > 0 {
		keys := make([]string, 0, len(s.Reasons))
		for k := range s.Reasons {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if s.Reasons[keys[i]] != s.Reasons[keys[j]] {
				return s.Reasons[keys[i]] > s.Reasons[keys[j]]
			}
			return keys[i] < keys[j]
		})
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s ×%d", k, s.Reasons[k]))
		}
		line += " [" + strings.Join(parts, "; ") + "]"
	}
	return line
}

func (s *Summary) reject(it Item) {
	s.Rejected++
	if s.Reasons == nil {
		s.Reasons = map[string]int{}
	}
	s.Reasons[reasonKey(it.Err)]++
	if len(s.Examples) < maxExamples {
		msg := it.Err.Error()
		var le *LineError
		if !errors.As(it.Err, &le) && it.Prov.File != "" {
			msg = it.Prov.File + ": " + msg
		}
		s.Examples = append(s.Examples, msg)
	}
}

// reasonKey groups rejections: by type and property for STIX objects, by
// field for other records.
func reasonKey(err error) string {
	var oe *stix.ObjectError
	if errors.As(err, &oe) {
		k := oe.Type
		if k == "" {
			k = "object"
		}
		if oe.Prop != "" {
			k += "." + oe.Prop
		}
		return k
	}
	var le *LineError
	if errors.As(err, &le) {
		if le.Field != "" {
			return le.Field
		}
		return "malformed record"
	}
	return "invalid"
}

// Import reads src with format and stores what it yields into the
// collection, batching writes while the reader goes on decoding. When the
// reader fails part-way, every object it yielded before is still stored and
// the error is returned with the summary.
func Import(ctx context.Context, w Writer, collection string, format Format, src Source, batch int) (Summary, error) {
	if batch <= 0 {
		batch = DefaultBatch
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type chunk struct {
		items []store.PutItem
	}
	batches := make(chan chunk, 2)
	var sum Summary
	readErr := make(chan error, 1)
	rejected := make(chan Item, 64)
	rejDone := make(chan struct{})
	var rejSum Summary
	go func() {
		for it := range rejected {
			rejSum.reject(it)
		}
		close(rejDone)
	}()

	go func() {
		defer close(batches)
		defer close(rejected)
		cur := make([]store.PutItem, 0, batch)
		read := 0
		err := format.Read(ctx, src, func(it Item) error {
			read++
			if it.Err != nil || it.Object == nil {
				if it.Err == nil {
					it.Err = errors.New("reader yielded neither object nor error")
				}
				select {
				case rejected <- it:
				case <-ctx.Done():
					return ctx.Err()
				}
				return nil
			}
			cur = append(cur, store.PutItem{Object: it.Object, Source: it.Prov.String()})
			if len(cur) >= batch {
				select {
				case batches <- chunk{cur}:
				case <-ctx.Done():
					return ctx.Err()
				}
				cur = make([]store.PutItem, 0, batch)
			}
			return nil
		})
		if len(cur) > 0 {
			select {
			case batches <- chunk{cur}:
			case <-ctx.Done():
			}
		}
		sum.Read = read // read only after batches is closed
		readErr <- err
	}()

	var putErr error
	for c := range batches {
		if putErr != nil {
			continue // drain so the reader can finish
		}
		res, err := w.Put(ctx, collection, c.items)
		if err != nil {
			putErr = fmt.Errorf("storing into %s: %w", collection, err)
			cancel()
			continue
		}
		sum.Created += res.Created
		sum.NewVersions += res.NewVersions
		sum.Unchanged += res.Unchanged
		sum.Stale += res.Stale
	}
	rerr := <-readErr
	<-rejDone
	sum.Rejected, sum.Reasons, sum.Examples = rejSum.Rejected, rejSum.Reasons, rejSum.Examples
	sum.Elapsed = time.Since(start)
	if putErr != nil {
		return sum, putErr
	}
	if rerr != nil {
		return sum, fmt.Errorf("%s: %w", src.Path, rerr)
	}
	return sum, nil
}
