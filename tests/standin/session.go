package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// The real server generates its session and signing keys under /vol/env at first start (key.pem,
// kid.txt, ...): losing them logs every user out, and a standby without the same keys logs everyone
// out on failover. The stand-in does the same with one key, and /version reports its fingerprint,
// so a test can prove that users would stay logged in across a failover or a restore.

const sessionKeyName = "session.key"

// ensureSessionKey writes a new key under <vol>/env unless one is there, and returns its
// fingerprint. Group-writable for GID 0, as W&B keeps /vol.
func ensureSessionKey(vol string) (string, error) {
	dir := filepath.Join(vol, "env")
	if err := os.MkdirAll(dir, 0o770); err != nil {
		return "", err
	}
	path := filepath.Join(dir, sessionKeyName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return "", err
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(hex.EncodeToString(raw)+"\n"), 0o660); err != nil {
			return "", err
		}
		// Not the umask's mode: W&B keeps /vol group-writable for GID 0.
		if err := os.Chmod(tmp, 0o660); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, path); err != nil {
			return "", err
		}
	}
	return sessionKeyFingerprint(vol)
}

// sessionKeyFingerprint is the first 16 hex digits of the key's sha256 ("" when there is none).
func sessionKeyFingerprint(vol string) (string, error) {
	data, err := os.ReadFile(filepath.Join(vol, "env", sessionKeyName))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:16], nil
}
