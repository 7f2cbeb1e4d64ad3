package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/chain/screen"
	"github.com/bulwark-intel/bulwark/internal/server"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

func init() {
	register(command{name: "serve", usage: "run the hub: TAXII 2.1, JSON API, /healthz, /metrics (HTTPS)", run: runServe})
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "[--db PATH|URL] [--listen HOST:PORT] [--tls-cert F --tls-key F | --insecure-http] [--max-tlp clear] [--graph PATH [--hops 3]]")
	db := dbFlag(fs)
	listen := fs.String("listen", "", "address to listen on (default 127.0.0.1:8443, or 127.0.0.1:8080 with --insecure-http)")
	certFile := fs.String("tls-cert", "", "TLS certificate (PEM); without it a self-signed one is made beside the database")
	keyFile := fs.String("tls-key", "", "TLS private key (PEM)")
	insecure := fs.Bool("insecure-http", false, "serve plain HTTP (behind a TLS-terminating proxy)")
	maxTLP := fs.String("max-tlp", "red", "cap on what the /api/v1 JSON API shows, on top of each viewer's access")
	exposure := exposureFlags(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	graphPath, expOpts, err := exposure()
	if err != nil {
		return err
	}
	tlp, err := stix.ParseTLP(*maxTLP)
	if err != nil {
		return fmt.Errorf("%w: --max-tlp: %v", errUsage, err)
	}
	if *insecure && (*certFile != "" || *keyFile != "") {
		return fmt.Errorf("%w: --insecure-http and --tls-cert/--tls-key exclude each other", errUsage)
	}
	if (*certFile == "") != (*keyFile == "") {
		return fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	}
	addr := *listen
	if addr == "" {
		addr = "127.0.0.1:8443"
		if *insecure {
			addr = "127.0.0.1:8080"
		}
	}
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := ensureCollection(ctx, s, defaultCollection, stix.TLPNone); err != nil {
		return err
	}
	acc := access.New(s)
	defer acc.Close() // before the store closes: writes the last audit entries
	if err := bootstrapAdmin(ctx, e, s, acc); err != nil {
		return err
	}

	var tlsCfg *tls.Config
	if !*insecure {
		cf, kf := *certFile, *keyFile
		if cf == "" {
			dir := filepath.Join(filepath.Dir(*db), "tls")
			if isURL(*db) {
				dir = filepath.Join("bulwark-data", "tls")
			}
			var created bool
			if cf, kf, created, err = selfSigned(dir); err != nil {
				return fmt.Errorf("self-signed certificate: %w", err)
			}
			if created {
				log.Info("generated a self-signed TLS certificate for local use", "cert", cf)
			}
		}
		if tlsCfg, err = tlsConfig(cf, kf); err != nil {
			return err
		}
	} else if lb, err := isLoopback(addr); err != nil {
		return fmt.Errorf("%w: --listen: %v", errUsage, err)
	} else if !lb {
		log.Warn("plain HTTP on a non-loopback address: tokens cross the network in the clear unless a TLS proxy is in front", "listen", addr)
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	// The screening index loads in the background from the start, so the
	// first POST /api/v1/screen does not wait for it (it does if it comes
	// first); with --graph it also answers indirect exposure.
	ix := screen.NewIndex(s, screen.IndexOptions{Logger: log})
	g, err := attachScreenGraph(ctx, ix, graphPath, expOpts)
	if err != nil {
		return err
	}
	if g != nil {
		defer g.Close()
		log.Info("screening graph loaded", "graph", graphPath, "transfers", g.NumEdges(), "addresses", g.NumNodes())
	}
	go func() {
		if _, err := ix.Update(ctx); err != nil && ctx.Err() == nil {
			log.Warn("screening index: first load failed; requests will retry", "err", err)
		}
	}()
	h := server.New(s, server.Options{MaxTLP: tlp, Logger: log, TAXII: taxiiHandler(acc, log), Access: acc, Admin: s, Screen: ix})
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // large TAXII POSTs
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "https"
	if tlsCfg == nil {
		scheme = "http"
	}
	log.Info("bulwark serving", "url", scheme+"://"+ln.Addr().String(), "db", redactURL(*db))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("bulwark stopped")
	return nil
}

// bootstrapAdmin creates the administrator organisation on the first start
// and prints its token once, on stdout (never to the log).
func bootstrapAdmin(ctx context.Context, e *env, s store.Store, acc *access.Service) error {
	orgs, err := s.ListOrgs(ctx)
	if err != nil {
		return err
	}
	if len(orgs) > 0 {
		return nil
	}
	if _, err := s.CreateOrg(ctx, store.Org{Name: "admin", Clearance: stix.TLPRed, Admin: true}); err != nil {
		return err
	}
	secret, _, err := acc.NewToken(ctx, "admin", time.Time{})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "first start: created organisation \"admin\"; its token (shown once): %s\n", secret)
	return nil
}

func isURL(db string) bool { return strings.Contains(db, "://") }

// redactURL hides a password in a database URL before it is logged.
func redactURL(db string) string {
	if i := strings.Index(db, "://"); i >= 0 {
		rest := db[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if c := strings.Index(rest[:at], ":"); c >= 0 {
				return db[:i+3] + rest[:c] + ":***" + rest[at:]
			}
		}
	}
	return db
}
