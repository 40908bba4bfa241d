package main

// The part of the W&B server API the wandb SDK 0.31 uses to log a run, as measured with a
// recording server (../shared/wandb-facts.md, "Clients"): enough for the REAL SDK to judge a
// deployment (login, a run's metrics, its files going straight to the bucket). This is a
// contract for tests, NOT a W&B implementation: no users, no projects, no read-back API.
//
//   - POST /graphql with Authorization: Basic base64("api:<key>"), the key checked against
//     STANDIN_API_KEY (401 otherwise, and always 401 when STANDIN_API_KEY is unset). Operations
//     by operationName: Viewer, UpsertBucket, ServerFeaturesQuery,
//     OrganizationCoreWeaveOrganizationID, CreateRunFiles (upload URLs presigned with AWS
//     Signature V4 for the bucket in BUCKET, as the real server signs them).
//     Read-back for the public API and `wandb verify`: Run, RunFiles, HistoryPage,
//     RunSampledHistory (one answer shape for every query of project.run), Project, and
//     GetDefaultEntity / DefaultEntity. Without operationName the operation is named by its query.
//   - POST /files/<entity>/<project>/<run>/file_stream: history lines, summary, uploaded names,
//     complete and exit code are kept.
//   - GET /files/<entity>/<project>/<run>/<name>: 302 to a presigned GET in the bucket (a file's url
//     and directUrl are that presigned GET itself).
//   - GET /standin/runs/<entity>/<project>/<run>: what was kept, as JSON (for tests only).

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// uploadURLLifetime is how long a presigned upload URL stays valid.
const uploadURLLifetime = 24 * time.Hour

// downloadURLLifetime is how long a presigned download URL stays valid.
const downloadURLLifetime = time.Hour

// operationInQuery names an operation by its query ("query Run(...)", "mutation UpsertBucket").
// Leading comment lines ("#graphql", as the SDK writes) are skipped.
var operationInQuery = regexp.MustCompile(`^(?:\s|#[^\n]*\n)*(?:query|mutation)\s+([A-Za-z_][A-Za-z0-9_]*)`)

// operationName is the request's operationName, else the name its query gives.
func operationName(req graphqlRequest) string {
	if req.OperationName != "" {
		return req.OperationName
	}
	if m := operationInQuery.FindStringSubmatch(req.Query); m != nil {
		return m[1]
	}
	return ""
}

type runRecord struct {
	Entity   string         `json:"entity"`
	Project  string         `json:"project"`
	Run      string         `json:"run"`
	History  []string       `json:"history"`
	Summary  map[string]any `json:"summary"`
	Uploaded []string       `json:"uploaded"`
	Files    []string       `json:"files"`
	Objects  []string       `json:"objects"`
	Complete bool           `json:"complete"`
	ExitCode *int           `json:"exitcode"`
}

type wandbAPI struct {
	env map[string]string
	now func() time.Time

	mu   sync.Mutex
	runs map[string]*runRecord
}

func newWandbAPI(env map[string]string) *wandbAPI {
	return &wandbAPI{env: env, now: time.Now, runs: map[string]*runRecord{}}
}

func (a *wandbAPI) register(mux *http.ServeMux) {
	mux.HandleFunc("/graphql", a.graphql)
	mux.HandleFunc("/files/", a.fileStream)
	mux.HandleFunc("/standin/runs/", a.showRun)
}

func (a *wandbAPI) defaultEntity() string {
	if e := a.env["STANDIN_ENTITY"]; e != "" {
		return e
	}
	return "standin"
}

// authorized checks Basic "api:<key>" against STANDIN_API_KEY in constant time.
func (a *wandbAPI) authorized(r *http.Request) bool {
	want := a.env["STANDIN_API_KEY"]
	user, key, ok := r.BasicAuth()
	if want == "" || !ok || user != "api" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(key), []byte(want)) == 1
}

func (a *wandbAPI) run(entity, project, name string) *runRecord {
	id := entity + "/" + project + "/" + name
	rec, ok := a.runs[id]
	if !ok {
		rec = &runRecord{Entity: entity, Project: project, Run: name, History: []string{}, Summary: map[string]any{},
			Uploaded: []string{}, Files: []string{}, Objects: []string{}}
		a.runs[id] = rec
	}
	return rec
}

type graphqlRequest struct {
	OperationName string         `json:"operationName"`
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
}

func stringVar(vars map[string]any, name, fallback string) string {
	if v, ok := vars[name].(string); ok && v != "" {
		return v
	}
	return fallback
}

func (a *wandbAPI) graphql(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST only"})
		return
	}
	if !a.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": []map[string]string{{"message": "invalid API key"}}})
		return
	}
	var req graphqlRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []map[string]string{{"message": "bad JSON: " + err.Error()}}})
		return
	}
	if req.Variables == nil {
		req.Variables = map[string]any{}
	}
	entity := a.defaultEntity()
	req.OperationName = operationName(req)
	switch req.OperationName {
	case "GetDefaultEntity", "DefaultEntity":
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"viewer": map[string]any{
			"id": "standin-viewer", "entity": entity, "username": entity}}})
	case "Run", "RunFiles", "HistoryPage", "RunSampledHistory", "RunFullHistory", "RunState", "Project":
		a.readBack(w, r, req.Variables, entity)
	case "Viewer":
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"viewer": map[string]any{
			"id": "standin-viewer", "entity": entity, "username": entity, "email": entity + "@standin.invalid",
			"admin": false, "flags": "{}", "teams": map[string]any{"edges": []any{}},
		}}})
	case "UpsertBucket":
		entity = stringVar(req.Variables, "entity", entity)
		project := stringVar(req.Variables, "project", "uncategorized")
		name := stringVar(req.Variables, "name", "")
		if name == "" {
			writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]string{{"message": "UpsertBucket without a run name"}}})
			return
		}
		a.mu.Lock()
		a.run(entity, project, name)
		a.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"upsertBucket": map[string]any{
			"inserted": true,
			"bucket": map[string]any{
				"id": "standin-" + name, "name": name, "displayName": stringVar(req.Variables, "displayName", name),
				"description": nil, "config": nil, "sweepName": nil, "historyLineCount": 0,
				"project": map[string]any{"id": "standin-" + project, "name": project,
					"entity": map[string]any{"id": "standin-" + entity, "name": entity}},
			},
		}}})
	case "ServerFeaturesQuery":
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"serverInfo": map[string]any{"features": []any{}}}})
	case "OrganizationCoreWeaveOrganizationID":
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"entity": nil}})
	case "CreateRunFiles":
		a.createRunFiles(w, req.Variables, entity)
	default:
		log.Printf("graphql: the stand-in does not answer %q", req.OperationName)
		writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]string{
			{"message": fmt.Sprintf("the stand-in does not answer %q (a test stand-in, not the W&B server)", req.OperationName)}}})
	}
}

func (a *wandbAPI) createRunFiles(w http.ResponseWriter, vars map[string]any, entity string) {
	entity = stringVar(vars, "entity", entity)
	project := stringVar(vars, "project", "uncategorized")
	name := stringVar(vars, "run", "")
	var files []string
	if raw, ok := vars["files"].([]any); ok {
		for _, f := range raw {
			if s, ok := f.(string); ok {
				files = append(files, s)
			}
		}
	}
	target, scheme, region, err := a.bucketTarget()
	if err != nil || name == "" {
		msg := "CreateRunFiles without a run"
		if err != nil {
			msg = maskSecrets(err.Error(), a.env)
		}
		writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]string{{"message": msg}}})
		return
	}
	now := a.now()
	answers := []map[string]any{}
	a.mu.Lock()
	rec := a.run(entity, project, name)
	for _, f := range files {
		key := runObjectKey(target.prefix, entity, project, name, f)
		answers = append(answers, map[string]any{"name": f, "uploadUrl": presignV4(http.MethodPut, scheme, target.endpoint,
			"/"+target.bucket+"/"+key, target.accessKey, target.secretKey, region, now, uploadURLLifetime)})
		rec.Files = append(rec.Files, f)
		rec.Objects = append(rec.Objects, target.bucket+"/"+key)
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"createRunFiles": map[string]any{
		"runID": name, "uploadHeaders": []string{}, "files": answers,
	}}})
}

// bucketTarget is BUCKET as parsed, with the scheme and region presigned URLs use.
func (a *wandbAPI) bucketTarget() (*bucketTarget, string, string, error) {
	target, err := parseBucket(a.env["BUCKET"], a.env["AWS_REGION"])
	if err != nil {
		return target, "", "", err
	}
	region := a.env["AWS_REGION"]
	if region == "" {
		region = "us-east-1"
	}
	scheme := "http"
	if target.secure {
		scheme = "https"
	}
	return target, scheme, region, nil
}

// presignGet is a presigned download URL for a run's file in the bucket.
func (a *wandbAPI) presignGet(entity, project, run, name string) (string, error) {
	target, scheme, region, err := a.bucketTarget()
	if err != nil {
		return "", err
	}
	key := runObjectKey(target.prefix, entity, project, run, name)
	return presignV4(http.MethodGet, scheme, target.endpoint, "/"+target.bucket+"/"+key, target.accessKey, target.secretKey,
		region, a.now(), downloadURLLifetime), nil
}

// readBack answers every read of project.run with one shape (the fields the public API's Run,
// RunFiles and history queries select), and Project with the project alone.
func (a *wandbAPI) readBack(w http.ResponseWriter, r *http.Request, vars map[string]any, entity string) {
	entity = stringVar(vars, "entity", stringVar(vars, "entityName", entity))
	project := stringVar(vars, "project", stringVar(vars, "projectName", stringVar(vars, "name", "uncategorized")))
	name := stringVar(vars, "run", stringVar(vars, "runName", stringVar(vars, "name", "")))
	proj := map[string]any{"id": "standin-" + project, "internalId": 1, "name": project, "entityName": entity,
		"entity": map[string]any{"id": "standin-" + entity, "name": entity}, "run": nil}
	a.mu.Lock()
	rec, ok := a.runs[entity+"/"+project+"/"+name]
	// RunFiles' fileNames: only those files (run.file(name) takes the first answered).
	wanted := map[string]bool{}
	if raw, isList := vars["fileNames"].([]any); isList {
		for _, n := range raw {
			if s, isString := n.(string); isString {
				wanted[s] = true
			}
		}
	}
	var files []string
	seen := map[string]bool{}
	if ok {
		for _, f := range rec.Files {
			if !seen[f] && (len(wanted) == 0 || wanted[f]) {
				seen[f] = true
				files = append(files, f)
			}
		}
	}
	a.mu.Unlock()
	// The SDK's downloads check the size the server gives: read it from the bucket (outside the lock).
	sizes := map[string]int64{}
	for _, f := range files {
		sizes[f] = a.objectSize(r.Context(), entity, project, name, f)
	}
	if ok {
		a.mu.Lock()
		proj["run"] = a.runAnswer(rec, files, sizes)
		a.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"project": proj}})
}

// runAnswer is a kept run as the public API reads it (caller holds a.mu).
func (a *wandbAPI) runAnswer(rec *runRecord, files []string, sizes map[string]int64) map[string]any {
	summary, _ := json.Marshal(rec.Summary)
	rows := []any{}
	keys := map[string]any{}
	for _, line := range rec.History {
		row := map[string]any{}
		if json.Unmarshal([]byte(line), &row) == nil {
			rows = append(rows, row)
			for k := range row {
				keys[k] = map[string]any{"typeCounts": []any{}}
			}
		}
	}
	edges := []any{}
	for _, f := range files {
		direct, err := a.presignGet(rec.Entity, rec.Project, rec.Run, f)
		if err != nil {
			direct = ""
		}
		edges = append(edges, map[string]any{"cursor": f, "node": map[string]any{
			"id": "standin-file-" + f, "name": f, "displayName": f, "digest": nil, "md5": nil, "sizeBytes": sizes[f],
			"mimetype": "application/octet-stream", "updatedAt": a.now().UTC().Format(time.RFC3339),
			// The SDK's core downloads url with no Authorization header (as it uploads): a presigned GET.
			"url": direct, "directUrl": direct,
		}})
	}
	state := "running"
	if rec.Complete {
		state = "finished"
	}
	historyKeys, _ := json.Marshal(map[string]any{"lastStep": len(rows) - 1, "keys": keys})
	return map[string]any{
		"id": "standin-" + rec.Run, "projectId": 1, "commit": nil, "name": rec.Run, "displayName": rec.Run, "state": state, "config": "{}",
		"summaryMetrics": string(summary), "systemMetrics": "{}", "historyLineCount": len(rec.History),
		"historyKeys": string(historyKeys), "history": rec.History, "sampledHistory": []any{rows}, "events": []any{},
		"tags": []any{}, "group": nil, "jobType": nil, "sweepName": nil, "readOnly": false, "description": nil, "notes": nil,
		"createdAt": a.now().UTC().Format("2006-01-02T15:04:05"), "heartbeatAt": a.now().UTC().Format("2006-01-02T15:04:05"),
		"user": map[string]any{"name": rec.Entity, "username": rec.Entity}, "fileCount": len(files),
		"files": map[string]any{"edges": edges, "pageInfo": map[string]any{"endCursor": nil, "hasNextPage": false}},
	}
}

// download sends a file's url (GET /files/ENTITY/PROJECT/RUN/NAME) to a presigned GET in the bucket,
// as the server does; the client follows without its Authorization header (another host).
func (a *wandbAPI) download(w http.ResponseWriter, r *http.Request, parts []string) {
	// A CORS preflight (wandb verify's) carries no key: it follows to the bucket, which answers it.
	preflight := r.Method == http.MethodOptions
	if !preflight && !a.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid API key"})
		return
	}
	name := strings.Join(parts[4:], "/")
	a.mu.Lock()
	_, ok := a.runs[parts[1]+"/"+parts[2]+"/"+parts[3]]
	a.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	direct, err := a.presignGet(parts[1], parts[2], parts[3], name)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": maskSecrets(err.Error(), a.env)})
		return
	}
	if preflight {
		http.Redirect(w, r, direct, http.StatusTemporaryRedirect)
		return
	}
	http.Redirect(w, r, direct, http.StatusFound)
}

// objectSize is the size of a run's file in the bucket, 0 when it cannot be read.
func (a *wandbAPI) objectSize(ctx context.Context, entity, project, run, name string) int64 {
	target, _, region, err := a.bucketTarget()
	if err != nil {
		return 0
	}
	client, err := minio.New(target.endpoint, &minio.Options{
		Creds: credentials.NewStaticV4(target.accessKey, target.secretKey, ""), Secure: target.secure, Region: region,
		MaxRetries: 1})
	if err != nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := client.StatObject(ctx, target.bucket, runObjectKey(target.prefix, entity, project, run, name), minio.StatObjectOptions{})
	if err != nil {
		return 0
	}
	return info.Size
}

// runObjectKey is where the stand-in puts a run's file in the bucket: [PREFIX/]ENTITY/PROJECT/RUN/NAME.
func runObjectKey(prefix, entity, project, run, name string) string {
	return strings.TrimPrefix(strings.Trim(prefix, "/")+"/"+entity+"/"+project+"/"+run+"/"+name, "/")
}

type fileStreamChunk struct {
	Offset  int      `json:"offset"`
	Content []string `json:"content"`
}

type fileStreamRequest struct {
	Files    map[string]fileStreamChunk `json:"files"`
	Uploaded []string                   `json:"uploaded"`
	Complete *bool                      `json:"complete"`
	ExitCode *int                       `json:"exitcode"`
}

// fileStream keeps what the SDK streams while a run lives: /files/ENTITY/PROJECT/RUN/file_stream.
func (a *wandbAPI) fileStream(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) >= 5 && (r.Method == http.MethodGet || r.Method == http.MethodOptions) {
		a.download(w, r, parts)
		return
	}
	if len(parts) != 5 || parts[4] != "file_stream" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if !a.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid API key"})
		return
	}
	var req fileStreamRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad JSON: " + err.Error()})
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	rec := a.run(parts[1], parts[2], parts[3])
	for name, chunk := range req.Files {
		switch name {
		case "wandb-history.jsonl":
			rec.History = append(rec.History, chunk.Content...)
		case "wandb-summary.json":
			if n := len(chunk.Content); n > 0 {
				summary := map[string]any{}
				if err := json.Unmarshal([]byte(chunk.Content[n-1]), &summary); err == nil {
					rec.Summary = summary
				}
			}
		}
	}
	rec.Uploaded = append(rec.Uploaded, req.Uploaded...)
	if req.Complete != nil && *req.Complete {
		rec.Complete = true
	}
	if req.ExitCode != nil {
		rec.ExitCode = req.ExitCode
	}
	writeJSON(w, http.StatusOK, map[string]any{"exitcode": nil, "limits": map[string]any{}})
}

func (a *wandbAPI) showRun(w http.ResponseWriter, r *http.Request) {
	id := strings.Trim(strings.TrimPrefix(r.URL.Path, "/standin/runs/"), "/")
	a.mu.Lock()
	defer a.mu.Unlock()
	rec, ok := a.runs[id]
	if !ok || strings.Count(id, "/") != 2 {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no run " + id + " at this stand-in"})
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// awsEscape is S3's URI encoding: unreserved characters stay, everything else is %XX (upper case);
// slashes stay only in paths.
func awsEscape(s string, keepSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// presignV4 returns a query-string-authenticated URL (AWS Signature Version 4, UNSIGNED-PAYLOAD,
// only the host header signed), the way S3 and MinIO check a presigned URL. path is /BUCKET/KEY
// (path style, as S3-compatible endpoints want), not yet escaped.
func presignV4(method, scheme, host, path, accessKey, secretKey, region string, at time.Time, expires time.Duration) string {
	at = at.UTC()
	date := at.Format("20060102")
	stamp := at.Format("20060102T150405Z")
	scope := date + "/" + region + "/s3/aws4_request"
	query := map[string]string{
		"X-Amz-Algorithm":     "AWS4-HMAC-SHA256",
		"X-Amz-Credential":    accessKey + "/" + scope,
		"X-Amz-Date":          stamp,
		"X-Amz-Expires":       fmt.Sprint(int(expires.Seconds())),
		"X-Amz-SignedHeaders": "host",
	}
	names := make([]string, 0, len(query))
	for k := range query {
		names = append(names, k)
	}
	sort.Strings(names)
	pairs := make([]string, 0, len(names))
	for _, k := range names {
		pairs = append(pairs, awsEscape(k, false)+"="+awsEscape(query[k], false))
	}
	canonicalQuery := strings.Join(pairs, "&")
	escapedPath := awsEscape(path, true)
	canonical := strings.Join([]string{method, escapedPath, canonicalQuery, "host:" + host, "", "host", "UNSIGNED-PAYLOAD"}, "\n")
	digest := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + hex.EncodeToString(digest[:])
	key := hmacSHA256([]byte("AWS4"+secretKey), date)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, "s3")
	key = hmacSHA256(key, "aws4_request")
	signature := hex.EncodeToString(hmacSHA256(key, toSign))
	u := url.URL{Scheme: scheme, Host: host, Opaque: "//" + host + escapedPath,
		RawQuery: canonicalQuery + "&X-Amz-Signature=" + signature}
	return u.String()
}
