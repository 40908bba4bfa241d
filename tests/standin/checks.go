package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/redis/go-redis/v9"
)

func isTrue(v string) bool {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	return err == nil && b
}

func parseSeconds(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// maskSecrets keeps passwords from the environment out of error texts served by /ready.
func maskSecrets(text string, env map[string]string) string {
	for _, key := range []string{"MYSQL", "BUCKET", "REDIS"} {
		u, err := url.Parse(env[key])
		if err != nil || u.User == nil {
			continue
		}
		if p, ok := u.User.Password(); ok && p != "" {
			text = strings.ReplaceAll(text, p, "********")
		}
	}
	return text
}

func caPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate found in %s", path)
	}
	return pool, nil
}

// mysqlConfig turns W&B's MYSQL URL (mysql://USER:PASS@HOST[:PORT]/DB[?tls=...]) into a driver
// configuration. tls takes the go-sql-driver values; tls=custom needs ssl-ca.
func mysqlConfig(raw string) (*mysql.Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("MYSQL is not a URL")
	}
	if u.Scheme != "mysql" {
		return nil, fmt.Errorf("MYSQL scheme must be mysql://, got %q", u.Scheme)
	}
	cfg := mysql.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = u.Host
	if u.Port() == "" {
		cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	cfg.DBName = strings.TrimPrefix(u.Path, "/")
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.Timeout = checkTimeout
	cfg.AllowNativePasswords = true
	q := u.Query()
	switch mode := q.Get("tls"); mode {
	case "", "false":
	case "true", "skip-verify", "preferred":
		cfg.TLSConfig = mode
	case "custom":
		ca := q.Get("ssl-ca")
		if ca == "" {
			return nil, fmt.Errorf("MYSQL tls=custom needs ssl-ca")
		}
		pool, err := caPool(ca)
		if err != nil {
			return nil, err
		}
		cfg.TLS = &tls.Config{RootCAs: pool, ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	default:
		return nil, fmt.Errorf("MYSQL tls=%q is not a known mode", mode)
	}
	return cfg, nil
}

func openMySQL(raw string) (*sql.DB, error) {
	cfg, err := mysqlConfig(raw)
	if err != nil {
		return nil, err
	}
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(connector), nil
}

func checkMySQL(ctx context.Context, raw string) error {
	db, err := openMySQL(raw)
	if err != nil {
		return err
	}
	defer db.Close()
	var one int
	return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

type downgradeError struct{ database, binary string }

func (e *downgradeError) Error() string {
	return fmt.Sprintf("database schema was written by version %s, newer than this server (%s); downgrades are not supported",
		e.database, e.binary)
}

// dirtyError is what golang-migrate reports when a migration stopped half-way: no server version
// starts on such a database until it is restored (or forced by hand).
type dirtyError struct{ migration int64 }

func (e *dirtyError) Error() string {
	return fmt.Sprintf("Dirty database version %d. Fix and force version.", e.migration)
}

// brokenError is the failure of a stand-in build made with brokenMigration=true: its migration
// fails after partly applying, as a real failed upgrade can.
type brokenError struct{ migration int64 }

func (e *brokenError) Error() string {
	return fmt.Sprintf("migration %d failed after partly applying (this stand-in build fails on purpose); "+
		"the schema is left dirty", e.migration)
}

// brokenMigration is set at build time (-X main.brokenMigration=true) for the lab's broken build.
var brokenMigration = "false"

// migrationNumber is the stand-in's own numbering of its single migration per release (golang-migrate
// counts migrations, not releases): MAJOR*1000000 + MINOR*1000 + PATCH.
func migrationNumber(v string) int64 {
	core, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), "-")
	parts := strings.Split(core, ".")
	var n int64
	for i := 0; i < 3; i++ {
		n *= 1000
		if i < len(parts) {
			x, _ := strconv.Atoi(parts[i])
			n += int64(x)
		}
	}
	return n
}

// migrate records the running version in the database, refusing to go backwards, and keeps a
// golang-migrate style schema_migrations (version, dirty) beside it.
func migrate(ctx context.Context, raw, binaryVersion string) error {
	db, err := openMySQL(raw)
	if err != nil {
		return err
	}
	defer db.Close()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, ddl := range []string{
		"CREATE TABLE IF NOT EXISTS standin_schema (id TINYINT PRIMARY KEY, version VARCHAR(64) NOT NULL)",
		"CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL)",
	} {
		if _, err := db.ExecContext(cctx, ddl); err != nil {
			return err
		}
	}
	var migration int64
	var dirty bool
	err = db.QueryRowContext(cctx, "SELECT version, dirty FROM schema_migrations LIMIT 1").Scan(&migration, &dirty)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	case dirty:
		return &dirtyError{migration: migration}
	}
	var current string
	err = db.QueryRowContext(cctx, "SELECT version FROM standin_schema WHERE id = 1").Scan(&current)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	case compareVersions(current, binaryVersion) > 0:
		return &downgradeError{database: current, binary: binaryVersion}
	}
	target := migrationNumber(binaryVersion)
	if isTrue(brokenMigration) {
		// Part of the change applies, then the rest fails: golang-migrate marks the version dirty first.
		if err := setMigration(cctx, db, target, true); err != nil {
			return err
		}
		if _, err := db.ExecContext(cctx,
			"CREATE TABLE IF NOT EXISTS standin_half_applied (id INT PRIMARY KEY)"); err != nil {
			return err
		}
		return &brokenError{migration: target}
	}
	if err := setMigration(cctx, db, target, false); err != nil {
		return err
	}
	_, err = db.ExecContext(cctx,
		"INSERT INTO standin_schema (id, version) VALUES (1, ?) ON DUPLICATE KEY UPDATE version = VALUES(version)",
		binaryVersion)
	return err
}

func setMigration(ctx context.Context, db *sql.DB, migration int64, dirty bool) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "DELETE FROM schema_migrations"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, dirty) VALUES (?, ?)", migration, dirty); err != nil {
		return err
	}
	return tx.Commit()
}

// compareVersions compares dotted numeric versions ("0.10.0" > "0.9.1"); a leading v is ignored.
func compareVersions(a, b string) int {
	pa := strings.Split(strings.TrimPrefix(a, "v"), ".")
	pb := strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			if x > y {
				return 1
			}
			return -1
		}
	}
	return 0
}

type bucketTarget struct {
	endpoint  string
	secure    bool
	bucket    string
	prefix    string
	accessKey string
	secretKey string
}

// parseBucket understands the S3 forms of W&B's BUCKET: s3://AK:SK@HOST:PORT/BUCKET[/PATH] for
// S3-compatible stores (MinIO) and s3://[AK:SK@]BUCKET[/PATH] for AWS. gs:// and az:// are real
// W&B formats the stand-in cannot check.
func parseBucket(raw, region string) (*bucketTarget, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("BUCKET is not a URL")
	}
	if u.Scheme != "s3" {
		return nil, fmt.Errorf("the stand-in can only check s3:// buckets, not %s://", u.Scheme)
	}
	t := &bucketTarget{secure: isTrue(u.Query().Get("tls"))}
	if u.User != nil {
		t.accessKey = u.User.Username()
		t.secretKey, _ = u.User.Password()
	} else {
		t.accessKey, t.secretKey = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	path := strings.Trim(u.Path, "/")
	if u.Port() != "" {
		t.endpoint = u.Host
		t.bucket, t.prefix, _ = strings.Cut(path, "/")
	} else {
		if region == "" {
			region = "us-east-1"
		}
		t.endpoint, t.secure = "s3."+region+".amazonaws.com", true
		t.bucket, t.prefix = u.Host, path
	}
	if t.bucket == "" {
		return nil, fmt.Errorf("BUCKET names no bucket")
	}
	return t, nil
}

// checkBucket proves the server could do its job: the bucket exists and an object can be
// written, read back and removed with the given key.
func checkBucket(ctx context.Context, raw, region string) error {
	t, err := parseBucket(raw, region)
	if err != nil {
		return err
	}
	if region == "" {
		region = "us-east-1"
	}
	client, err := minio.New(t.endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(t.accessKey, t.secretKey, ""),
		Secure: t.secure,
		Region: region,
	})
	if err != nil {
		return err
	}
	exists, err := client.BucketExists(ctx, t.bucket)
	if err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("bucket %q does not exist", t.bucket)
	}
	// One probe object at a time, as for /vol: a concurrent request's removal failed the stat.
	writeProbe.Lock()
	defer writeProbe.Unlock()
	key := strings.TrimPrefix(t.prefix+"/.wandb-standin-probe", "/")
	body := []byte("probe " + version)
	if _, err := client.PutObject(ctx, t.bucket, key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		return fmt.Errorf("write probe: %w", err)
	}
	if _, err := client.StatObject(ctx, t.bucket, key, minio.StatObjectOptions{}); err != nil {
		return fmt.Errorf("read probe: %w", err)
	}
	return client.RemoveObject(ctx, t.bucket, key, minio.RemoveObjectOptions{})
}

// redisClient builds a client from W&B's REDIS URL: redis://[USER][:PASS@]HOST:PORT with
// tls=true and caCertPath=, or the Sentinel form ?master=NAME (HOST:PORT is then a sentinel).
func redisClient(raw string) (redis.UniversalClient, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("REDIS is not a URL")
	}
	if u.Scheme != "redis" {
		return nil, fmt.Errorf("REDIS scheme must be redis://, got %q", u.Scheme)
	}
	q := u.Query()
	var username, password string
	if u.User != nil {
		username = u.User.Username()
		password, _ = u.User.Password()
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "6379")
	}
	var tlsConfig *tls.Config
	if isTrue(q.Get("tls")) {
		tlsConfig = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
		if ca := q.Get("caCertPath"); ca != "" {
			pool, err := caPool(ca)
			if err != nil {
				return nil, err
			}
			tlsConfig.RootCAs = pool
		}
	}
	if master := q.Get("master"); master != "" {
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: master, SentinelAddrs: []string{addr},
			Username: username, Password: password, SentinelPassword: password,
			TLSConfig: tlsConfig, DialTimeout: checkTimeout, MaxRetries: -1,
		}), nil
	}
	return redis.NewClient(&redis.Options{
		Addr: addr, Username: username, Password: password,
		TLSConfig: tlsConfig, DialTimeout: checkTimeout, MaxRetries: -1,
	}), nil
}

func checkRedis(ctx context.Context, raw string) error {
	client, err := redisClient(raw)
	if err != nil {
		return err
	}
	defer client.Close()
	key := "wandb-standin:probe"
	if err := client.Set(ctx, key, version, time.Minute).Err(); err != nil {
		return err
	}
	return client.Del(ctx, key).Err()
}

// One write probe at a time (the /vol file, the bucket's object): /ready answers concurrent requests
// (the proxy's health checks, samplers of an error window), and one request removing the probe
// another had just written failed that one (ENOENT, or a 404 on the object's stat).
var writeProbe sync.Mutex

func checkWritable(dir string) error {
	writeProbe.Lock()
	defer writeProbe.Unlock()
	probe := filepath.Join(dir, ".standin-write-probe")
	if err := os.WriteFile(probe, []byte(version), 0o600); err != nil {
		return fmt.Errorf("%s is not writable by uid %d: %w", dir, os.Getuid(), err)
	}
	return os.Remove(probe)
}
