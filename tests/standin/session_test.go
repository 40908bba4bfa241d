package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestSessionKeyIsWrittenOnceAndKept(t *testing.T) {
	vol := t.TempDir()
	first, err := ensureSessionKey(vol)
	if err != nil || len(first) != 16 {
		t.Fatalf("first start: fingerprint %q, error %v", first, err)
	}
	info, err := os.Stat(filepath.Join(vol, "env", sessionKeyName))
	if err != nil || info.Mode().Perm()&0o060 != 0o060 {
		t.Fatalf("the key must be group-readable and -writable (GID 0): %v %v", info.Mode(), err)
	}
	again, err := ensureSessionKey(vol)
	if err != nil || again != first {
		t.Fatalf("a second start changed the key: %q -> %q (%v)", first, again, err)
	}
	// A key copied from another host (a standby kept in step) is used as it is.
	other := t.TempDir()
	data, _ := os.ReadFile(filepath.Join(vol, "env", sessionKeyName))
	_ = os.MkdirAll(filepath.Join(other, "env"), 0o770)
	_ = os.WriteFile(filepath.Join(other, "env", sessionKeyName), data, 0o660)
	copied, err := ensureSessionKey(other)
	if err != nil || copied != first {
		t.Fatalf("the copied key has another fingerprint: %q, want %q (%v)", copied, first, err)
	}
}

func TestVersionReportsTheSessionKeyFingerprint(t *testing.T) {
	vol := t.TempDir()
	want, err := ensureSessionKey(vol)
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(map[string]string{"STANDIN_VOL": vol})
	rec := httptest.NewRecorder()
	s.routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/version", nil))
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("/version: %d %s", rec.Code, rec.Body.String())
	}
	if body["session_key"] != want {
		t.Fatalf("/version session_key = %q, want %q", body["session_key"], want)
	}
	// A restore that brings other keys back shows at once.
	_ = os.WriteFile(filepath.Join(vol, "env", sessionKeyName), []byte("restored\n"), 0o660)
	rec = httptest.NewRecorder()
	s.routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/version", nil))
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if body["session_key"] == want || body["session_key"] == "" {
		t.Fatalf("/version did not follow the key on disk: %q", body["session_key"])
	}
}
