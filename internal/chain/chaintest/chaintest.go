// Package chaintest runs real chain nodes for end-to-end tests — geth in
// --dev mode and btcd on regtest, on free loopback ports — and stages on
// them one story: a theft and its laundering through splits, a peel chain,
// a consolidation, an ERC-20 leg (Ethereum) and an exchange deposit. It
// returns the story's addresses and transactions and the transfers a loader
// must read back, and checks a trace of those transfers against the
// amounts each taint model gives, worked out by hand in ethstory.go and
// btcstory.go.
//
// Only tests import it. Nodes are found through $BULWARK_GETH and
// $BULWARK_BTCD (.ci/geth.sh and .ci/btcd.sh build them into a cache) or on
// PATH; without them a test skips, except under CI=true, where it fails.
package chaintest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// findBinary returns the node binary named by env or found on PATH; it
// skips the test when there is none, or fails it under CI=true. build says
// how to get one.
func findBinary(t testing.TB, env, name, build string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", env, p, err)
		}
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no %s: set %s (%s) or put %s on PATH", name, env, build, name)
	}
	t.Skipf("no %s: set %s (%s) or put %s on PATH to run this end-to-end test", name, env, build, name)
	return ""
}

// GethBinary returns the geth to run, from $BULWARK_GETH or PATH.
func GethBinary(t testing.TB) string {
	t.Helper()
	return findBinary(t, "BULWARK_GETH", "geth", "bash .ci/geth.sh builds it and prints its path")
}

// BtcdBinary returns the btcd to run, from $BULWARK_BTCD or PATH.
func BtcdBinary(t testing.TB) string {
	t.Helper()
	return findBinary(t, "BULWARK_BTCD", "btcd", "bash .ci/btcd.sh builds it and prints its directory")
}

// freePort returns a loopback port that was free a moment ago. Another
// process may take it before the node binds it; the starters retry.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// logBuffer collects a node's output for the failure message.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Tail returns the last 8 KB written.
func (s *logBuffer) Tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.b.Bytes()
	if len(b) > 8<<10 {
		b = b[len(b)-8<<10:]
	}
	return string(b)
}

// RPCError is a JSON-RPC error answer.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("node error %d: %s", e.Code, e.Message) }

// rpcClient is a plain JSON-RPC client without retries: the staging talks
// to a node on loopback, and a failure there should fail the test loudly.
type rpcClient struct {
	url, user, pass string
	version         string // "2.0" for geth, "1.0" for btcd
	hc              *http.Client
	id              atomic.Uint64
}

// call sends one request and decodes its result into out (unless nil). It
// reports a null result, which geth gives for a receipt not yet mined.
func (c *rpcClient) call(ctx context.Context, method string, out any, params ...any) (null bool, err error) {
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(map[string]any{"jsonrpc": c.version, "id": c.id.Add(1), "method": method, "params": params})
	if err != nil {
		return false, fmt.Errorf("%s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("%s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return false, fmt.Errorf("%s: %w", method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return false, fmt.Errorf("%s: reading answer: %w", method, err)
	}
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  *RPCError       `json:"error"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return false, fmt.Errorf("%s: HTTP %d: %.200q", method, resp.StatusCode, raw)
	}
	if r.Error != nil {
		return false, fmt.Errorf("%s: %w", method, r.Error)
	}
	if len(r.Result) == 0 || string(r.Result) == "null" {
		return true, nil
	}
	if out == nil {
		return false, nil
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		return false, fmt.Errorf("%s: decoding result: %w", method, err)
	}
	return false, nil
}

// process is a started node: the command and the channel its exit lands on.
type process struct {
	cmd      *exec.Cmd
	exited   chan error
	log      *logBuffer
	graceful bool // stop with an interrupt first
}

func start(t testing.TB, cmd *exec.Cmd) *process {
	t.Helper()
	p := &process{cmd: cmd, exited: make(chan error, 1), log: &logBuffer{}}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", cmd.Path, err)
	}
	go func() { p.exited <- cmd.Wait() }()
	return p
}

// stop ends the node: a kill, or with graceful set an interrupt and a kill
// if it has not gone within 10 s.
func (p *process) stop() {
	if !p.graceful {
		_ = p.cmd.Process.Kill()
		<-p.exited
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// waitReady polls ready until it succeeds, the process exits (died) or 30 s
// pass.
func (p *process) waitReady(ready func() error) (died bool, err error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-p.exited:
			p.exited <- err
			return true, fmt.Errorf("exited: %v", err)
		default:
		}
		err := ready()
		if err == nil {
			return false, nil
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("not ready within 30 s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startWithRetry starts a node up to three times: a port picked by
// freePort may be taken before the node binds it.
func startWithRetry(t testing.TB, name string, launch func() (*process, func() error)) *process {
	t.Helper()
	var last error
	for range 3 {
		p, ready := launch()
		died, err := p.waitReady(ready)
		if err == nil {
			t.Cleanup(func() {
				p.stop()
				if t.Failed() {
					t.Logf("%s output (tail):\n%s", name, p.log.Tail())
				}
			})
			return p
		}
		if !died {
			p.stop()
		}
		last = fmt.Errorf("%w\n%s", err, p.log.Tail())
	}
	t.Fatalf("%s did not start: %v", name, last)
	return nil
}

func loopbackClient() *http.Client { return &http.Client{Timeout: 30 * time.Second} }

// lower is strings.ToLower, short for the canonical EVM form.
func lower(s string) string { return strings.ToLower(s) }
