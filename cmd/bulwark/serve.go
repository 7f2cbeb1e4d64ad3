package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/bulwark-intel/bulwark/internal/server"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

func init() {
	register(command{name: "serve", usage: "run the store's HTTP service: /healthz, /metrics, JSON search API", run: runServe})
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve", "[--db PATH|URL] [--listen HOST:PORT] [--max-tlp clear]")
	db := dbFlag(fs)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	maxTLP := fs.String("max-tlp", "clear", "most restrictive TLP the unauthenticated API shows")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	tlp, err := stix.ParseTLP(*maxTLP)
	if err != nil {
		return fmt.Errorf("%w: --max-tlp: %v", errUsage, err)
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
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	if tlp > stix.TLPClear {
		log.Warn("the API has no authentication yet: everything up to this TLP is readable by anyone who can connect", "max_tlp", tlp.String(), "listen", ln.Addr().String())
	}
	srv := &http.Server{
		Handler:           server.New(s, server.Options{MaxTLP: tlp, Logger: log}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	log.Info("bulwark serving", "addr", "http://"+ln.Addr().String(), "db", *db, "max_tlp", tlp.String())
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
