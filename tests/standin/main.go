// wandb-standin is a TEST STAND-IN for the wandb/local container, which cannot be pulled in the
// test lab. It is not the W&B server and does nothing a user would want; it only honours the
// container contract the collection's roles and modules rely on:
//
//   - HTTP on :8080: GET /healthz is 200 while the process lives; GET /ready is 200 only when the
//     MySQL, bucket (S3 API) and Redis named in MYSQL, BUCKET and REDIS answer and /vol is
//     writable, else 503 with a JSON body naming what failed.
//   - "Migrations" at start: records its version in MySQL and refuses to serve a database written
//     by a newer version (W&B does not support downgrades). Keeps golang-migrate's
//     schema_migrations (version, dirty) too: a dirty schema stops it at start ("Dirty database
//     version N"), and a build made with -X main.brokenMigration=true (the lab's broken build)
//     leaves the schema dirty after partly applying its migration, then exits.
//   - LOCAL_RESTORE=true prints a temporary restore username and password to the log.
//   - GET /version reports its own version and the fingerprint of the session key it writes under
//     /vol/env at first start (session.go); :8181/metrics serves Prometheus text.
//   - /ws upgrades to a WebSocket echo and /upload counts a request body (proxy tests).
//   - /graphql, /files/.../file_stream and /standin/runs/...: the part of the W&B API the wandb
//     SDK uses to log a run, so the real SDK can judge a deployment (wandbapi.go).
//   - SIGTERM stops it cleanly.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

var version = "dev"

// exit is os.Exit, replaceable in tests.
var exit = os.Exit

const checkTimeout = 3 * time.Second

type server struct {
	env       map[string]string
	volPath   string
	startedAt time.Time

	api *wandbAPI

	mu         sync.Mutex
	migrations string // "pending", "ok" or an error text
}

func newServer(env map[string]string) *server {
	vol := env["STANDIN_VOL"]
	if vol == "" {
		vol = "/vol"
	}
	return &server{env: env, volPath: vol, startedAt: time.Now(), migrations: "pending", api: newWandbAPI(env)}
}

func (s *server) setMigrations(state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.migrations = state
}

func (s *server) migrationState() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.migrations
}

// runMigrations retries until MySQL answers, as the real server does while its database starts.
func (s *server) runMigrations(ctx context.Context) {
	delay := parseSeconds(s.env["STANDIN_MIGRATION_SECONDS"])
	if delay > 0 {
		log.Printf("migrations: simulating %s of schema migrations", delay)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return
		}
	}
	if s.env["MYSQL"] == "" {
		s.setMigrations("ok")
		return
	}
	for {
		err := migrate(ctx, s.env["MYSQL"], version)
		if err == nil {
			log.Printf("migrations: database schema at version %s", version)
			s.setMigrations("ok")
			return
		}
		var fatal *downgradeError
		if errors.As(err, &fatal) {
			log.Printf("migrations: FATAL: %v", err)
			s.setMigrations(err.Error())
			return
		}
		// A dirty schema or a failed migration ends the process, as the real server's start does:
		// with a restart policy the container crash-loops until the database is restored.
		var dirty *dirtyError
		var broken *brokenError
		if errors.As(err, &dirty) || errors.As(err, &broken) {
			log.Printf("migrations: FATAL: %v", err)
			s.setMigrations(err.Error())
			exit(1)
			return
		}
		s.setMigrations("pending: " + err.Error())
		select {
		case <-time.After(2 * time.Second):
		case <-ctx.Done():
			return
		}
	}
}

type readiness struct {
	Status  string            `json:"status"`
	Version string            `json:"version"`
	Checks  map[string]string `json:"checks"`
	Failed  []string          `json:"failed,omitempty"`
}

func (s *server) ready(ctx context.Context) readiness {
	checks := map[string]func(context.Context) error{
		"vol": func(context.Context) error { return checkWritable(s.volPath) },
		"migrations": func(context.Context) error {
			if state := s.migrationState(); state != "ok" {
				return errors.New(state)
			}
			return nil
		},
	}
	if v := s.env["MYSQL"]; v != "" {
		checks["mysql"] = func(ctx context.Context) error { return checkMySQL(ctx, v) }
	}
	if v := s.env["BUCKET"]; v != "" {
		checks["bucket"] = func(ctx context.Context) error { return checkBucket(ctx, v, s.env["AWS_REGION"]) }
	}
	if v := s.env["REDIS"]; v != "" {
		checks["redis"] = func(ctx context.Context) error { return checkRedis(ctx, v) }
	}

	result := readiness{Status: "ready", Version: version, Checks: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, check := range checks {
		wg.Add(1)
		go func(name string, check func(context.Context) error) {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			err := check(cctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				result.Checks[name] = maskSecrets(err.Error(), s.env)
				result.Failed = append(result.Failed, name)
			} else {
				result.Checks[name] = "ok"
			}
		}(name, check)
	}
	wg.Wait()
	if len(result.Failed) > 0 {
		result.Status = "not ready"
	}
	return result
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/ready", func(w http.ResponseWriter, r *http.Request) {
		res := s.ready(r.Context())
		status := http.StatusOK
		if len(res.Failed) > 0 {
			status = http.StatusServiceUnavailable
		}
		writeJSON(w, status, res)
	})
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		fingerprint, err := sessionKeyFingerprint(s.volPath)
		if err != nil {
			fingerprint = "unreadable"
		}
		writeJSON(w, http.StatusOK, map[string]string{"version": version, "standin": "true", "session_key": fingerprint})
	})
	s.api.register(mux)
	mux.HandleFunc("/ws", websocketEcho)
	mux.HandleFunc("/upload", countUpload)
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		headers := map[string]string{"Host": r.Host}
		for name := range r.Header {
			headers[name] = r.Header.Get(name)
		}
		writeJSON(w, http.StatusOK, headers)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "wandb-standin %s: a test stand-in for wandb/local, not the W&B server.\n", version)
	})
	var handler http.Handler = mux
	if isTrue(s.env["LOGGING_ENABLED"]) {
		handler = accessLog(handler)
	}
	return handler
}

func accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		log.Printf("access: %s %s %s %s", r.RemoteAddr, r.Method, r.URL.Path, time.Since(start))
	})
}

func metricsHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# HELP wandb_standin_info Stand-in build information.\n# TYPE wandb_standin_info gauge\n")
	fmt.Fprintf(w, "wandb_standin_info{version=%q} 1\n", version)
}

func environment() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				env[kv[:i]] = kv[i+1:]
				break
			}
		}
	}
	return env
}

func main() {
	log.SetFlags(log.LstdFlags | log.LUTC)
	env := environment()
	s := newServer(env)
	log.Printf("wandb-standin %s starting (a test stand-in for wandb/local, not the W&B server)", version)

	if isTrue(env["LOCAL_RESTORE"]) {
		user, password := restoreCredentials()
		log.Printf("LOCAL_RESTORE is set: SSO is disabled until it is removed.")
		log.Printf("Restore mode: log in with username: %s password: %s", user, password)
	}

	if fingerprint, err := ensureSessionKey(s.volPath); err != nil {
		log.Printf("session key under %s/env: %v", s.volPath, err)
	} else {
		log.Printf("session key fingerprint %s (%s/env/%s)", fingerprint, s.volPath, sessionKeyName)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go s.runMigrations(ctx)

	// STANDIN_ADDR / STANDIN_METRICS_ADDR move it off the container's ports (controller-side tests).
	appAddr, metricsAddr := env["STANDIN_ADDR"], env["STANDIN_METRICS_ADDR"]
	if appAddr == "" {
		appAddr = ":8080"
	}
	if metricsAddr == "" {
		metricsAddr = ":8181"
	}
	app := &http.Server{Addr: appAddr, Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	metricsMux := http.NewServeMux()
	metricsMux.HandleFunc("/metrics", metricsHandler)
	metrics := &http.Server{Addr: metricsAddr, Handler: metricsMux, ReadHeaderTimeout: 10 * time.Second}

	errs := make(chan error, 2)
	for _, srv := range []*http.Server{app, metrics} {
		go func(srv *http.Server) {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- err
			}
		}(srv)
	}
	log.Printf("listening on %s (app) and %s (metrics)", appAddr, metricsAddr)

	select {
	case err := <-errs:
		log.Fatalf("server failed: %v", err)
	case <-ctx.Done():
	}
	log.Printf("received stop signal, shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = app.Shutdown(shutdownCtx)
	_ = metrics.Shutdown(shutdownCtx)
	log.Printf("stopped cleanly")
}
