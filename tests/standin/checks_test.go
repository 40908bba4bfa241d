package main

import (
	"strings"
	"testing"
)

func TestMySQLConfigFromWandbURL(t *testing.T) {
	cfg, err := mysqlConfig("mysql://wandb_local:p%40ss%3Aw%2Frd@db.lab:3307/wandb_local?tls=preferred")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "wandb_local" || cfg.Passwd != "p@ss:w/rd" || cfg.Addr != "db.lab:3307" ||
		cfg.DBName != "wandb_local" || cfg.TLSConfig != "preferred" {
		t.Fatalf("unexpected config %+v", cfg)
	}
	cfg, err = mysqlConfig("mysql://u:p@db.lab/wandb")
	if err != nil || cfg.Addr != "db.lab:3306" {
		t.Fatalf("default port not applied: %v %+v", err, cfg)
	}
	for _, bad := range []string{"postgres://u:p@h/db", "mysql://u:p@h/db?tls=custom", "mysql://u:p@h/db?tls=maybe"} {
		if _, err := mysqlConfig(bad); err == nil {
			t.Errorf("%s: expected an error", bad)
		}
	}
}

func TestParseBucket(t *testing.T) {
	b, err := parseBucket("s3://AK:S%2FK@minio.lab:9000/wandb/prefix/x?tls=true", "")
	if err != nil {
		t.Fatal(err)
	}
	if b.endpoint != "minio.lab:9000" || b.bucket != "wandb" || b.prefix != "prefix/x" ||
		b.accessKey != "AK" || b.secretKey != "S/K" || !b.secure {
		t.Fatalf("unexpected %+v", b)
	}
	b, err = parseBucket("s3://my-bucket/path", "eu-west-1")
	if err != nil || b.endpoint != "s3.eu-west-1.amazonaws.com" || b.bucket != "my-bucket" || b.prefix != "path" {
		t.Fatalf("AWS form: %v %+v", err, b)
	}
	if _, err := parseBucket("gs://bucket", ""); err == nil || !strings.Contains(err.Error(), "gs://") {
		t.Fatalf("gs:// should be reported as unsupported, got %v", err)
	}
}

func TestRedisClientForms(t *testing.T) {
	for _, good := range []string{"redis://:pw@r.lab:6379", "redis://user:pw@r.lab:6380?tls=true", "redis://r.lab:26379?master=wandb"} {
		c, err := redisClient(good)
		if err != nil {
			t.Errorf("%s: %v", good, err)
			continue
		}
		c.Close()
	}
	if _, err := redisClient("http://r.lab"); err == nil {
		t.Error("non-redis scheme accepted")
	}
}

func TestCompareVersions(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{{"0.2.0", "0.1.0", 1}, {"v0.10.0", "0.9.1", 1}, {"0.1.0", "0.1.0", 0}, {"0.1", "0.1.1", -1}}
	for _, c := range cases {
		if got := compareVersions(c.a, c.b); got != c.want {
			t.Errorf("compare(%s,%s)=%d want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestMaskSecrets(t *testing.T) {
	env := map[string]string{"MYSQL": "mysql://u:hunter2@h/db", "REDIS": "redis://:r3dis@h:6379"}
	got := maskSecrets("auth failed for hunter2 and r3dis", env)
	if strings.Contains(got, "hunter2") || strings.Contains(got, "r3dis") {
		t.Fatalf("secret survived: %s", got)
	}
}

func TestMigrationNumberOrdersLikeReleases(t *testing.T) {
	cases := map[string]int64{"0.1.0": 1000, "0.2.0": 2000, "v0.83.1": 83001, "0.4.0-broken": 4000, "1.2": 1002000}
	for v, want := range cases {
		if got := migrationNumber(v); got != want {
			t.Errorf("migrationNumber(%s)=%d want %d", v, got, want)
		}
	}
	if migrationNumber("0.10.0") <= migrationNumber("0.9.9") {
		t.Error("0.10.0 must number after 0.9.9")
	}
}

func TestDirtyAndBrokenMessages(t *testing.T) {
	if got := (&dirtyError{migration: 4000}).Error(); got != "Dirty database version 4000. Fix and force version." {
		t.Errorf("golang-migrate's message expected, got %q", got)
	}
	if got := (&brokenError{migration: 4000}).Error(); !strings.Contains(got, "partly applying") ||
		!strings.Contains(got, "stand-in") {
		t.Errorf("the broken build must say it is a stand-in failing on purpose: %q", got)
	}
	if isTrue(brokenMigration) {
		t.Error("a default build must not be the broken one")
	}
}

func TestConcurrentWriteProbesDoNotFailEachOther(t *testing.T) {
	dir := t.TempDir()
	errs := make(chan error, 400)
	done := make(chan struct{})
	for worker := 0; worker < 8; worker++ {
		go func() {
			for i := 0; i < 50; i++ {
				errs <- checkWritable(dir)
			}
			done <- struct{}{}
		}()
	}
	for worker := 0; worker < 8; worker++ {
		<-done
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a concurrent probe failed: %v", err)
		}
	}
}
