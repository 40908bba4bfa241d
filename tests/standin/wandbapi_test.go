package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func basicAPIAuth(key string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte("api:"+key))
}

// The example of AWS's "Authenticating Requests: Using Query Parameters" (S3 API reference):
// the signer must produce AWS's own signature, or MinIO and S3 refuse the upload URLs.
func TestPresignV4MatchesAWSExample(t *testing.T) {
	at := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	got := presignV4(http.MethodGet, "https", "examplebucket.s3.amazonaws.com", "/test.txt",
		"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", at, 86400*time.Second)
	want := "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
		"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
		"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
	if got != want {
		t.Fatalf("presigned URL\n got %s\nwant %s", got, want)
	}
}

func TestAWSEscape(t *testing.T) {
	if got := awsEscape("/b/a b+c~d/é", true); got != "/b/a%20b%2Bc~d/%C3%A9" {
		t.Fatalf("path escape: %s", got)
	}
	if got := awsEscape("a/b", false); got != "a%2Fb" {
		t.Fatalf("query escape: %s", got)
	}
}

func post(t *testing.T, h http.Handler, path, auth, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestGraphQLChecksTheAPIKey(t *testing.T) {
	h := newServer(map[string]string{"STANDIN_API_KEY": "k1"}).routes()
	for _, auth := range []string{"", basicAPIAuth("wrong"), "Basic " + base64.StdEncoding.EncodeToString([]byte("user:k1"))} {
		if rec := post(t, h, "/graphql", auth, `{"operationName":"Viewer"}`); rec.Code != http.StatusUnauthorized {
			t.Errorf("auth %q: status %d, want 401", auth, rec.Code)
		}
	}
	rec := post(t, h, "/graphql", basicAPIAuth("k1"), `{"operationName":"Viewer","query":"query Viewer { viewer { id } }"}`)
	var body struct {
		Data struct {
			Viewer map[string]any `json:"viewer"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 200 || body.Data.Viewer["entity"] != "standin" {
		t.Fatalf("Viewer: %d %s", rec.Code, rec.Body)
	}
	// Without a configured key nothing is accepted.
	h = newServer(map[string]string{}).routes()
	if rec := post(t, h, "/graphql", basicAPIAuth(""), `{"operationName":"Viewer"}`); rec.Code != http.StatusUnauthorized {
		t.Errorf("no STANDIN_API_KEY: status %d, want 401", rec.Code)
	}
}

func TestRunFlowKeepsWhatArrives(t *testing.T) {
	s := newServer(map[string]string{"STANDIN_API_KEY": "k1", "BUCKET": "s3://AK:SK@minio.lab:9000/wandb?tls=true"})
	h := s.routes()
	auth := basicAPIAuth("k1")
	rec := post(t, h, "/graphql", auth, `{"operationName":"UpsertBucket","variables":{"name":"r1","project":"p","entity":null}}`)
	if !strings.Contains(rec.Body.String(), `"name":"r1"`) || !strings.Contains(rec.Body.String(), `"entity":{"id":"standin-standin","name":"standin"}`) {
		t.Fatalf("UpsertBucket: %s", rec.Body)
	}
	rec = post(t, h, "/graphql", auth, `{"operationName":"CreateRunFiles","variables":{"entity":"standin","project":"p","run":"r1","files":["blob.bin"]}}`)
	var files struct {
		Data struct {
			CreateRunFiles struct {
				Files []struct{ Name, UploadURL string } `json:"files"`
			} `json:"createRunFiles"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &files); err != nil || len(files.Data.CreateRunFiles.Files) != 1 {
		t.Fatalf("CreateRunFiles: %s", rec.Body)
	}
	u, err := url.Parse(files.Data.CreateRunFiles.Files[0].UploadURL)
	if err != nil || u.Scheme != "https" || u.Host != "minio.lab:9000" || u.Path != "/wandb/standin/p/r1/blob.bin" ||
		u.Query().Get("X-Amz-Signature") == "" || !strings.HasPrefix(u.Query().Get("X-Amz-Credential"), "AK/") {
		t.Fatalf("upload URL %s", files.Data.CreateRunFiles.Files[0].UploadURL)
	}
	if strings.Contains(rec.Body.String(), "SK") {
		t.Fatalf("the secret key leaked into the answer: %s", rec.Body)
	}
	stream := `{"files":{"wandb-history.jsonl":{"offset":0,"content":["{\"loss\":1}","{\"loss\":0.5}"]},` +
		`"wandb-summary.json":{"offset":0,"content":["{\"loss\":0.5}"]}},"uploaded":["blob.bin"],"complete":true,"exitcode":0}`
	if rec := post(t, h, "/files/standin/p/r1/file_stream", auth, stream); rec.Code != 200 {
		t.Fatalf("file_stream: %d %s", rec.Code, rec.Body)
	}
	if rec := post(t, h, "/files/standin/p/r1/file_stream", "", stream); rec.Code != http.StatusUnauthorized {
		t.Fatalf("file_stream without a key: %d", rec.Code)
	}
	get := httptest.NewRecorder()
	h.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/standin/runs/standin/p/r1", nil))
	var run runRecord
	if err := json.Unmarshal(get.Body.Bytes(), &run); err != nil {
		t.Fatal(err)
	}
	if len(run.History) != 2 || run.Summary["loss"] != 0.5 || !run.Complete || run.ExitCode == nil || *run.ExitCode != 0 ||
		len(run.Uploaded) != 1 || run.Objects[0] != "wandb/standin/p/r1/blob.bin" {
		t.Fatalf("kept %+v", run)
	}
	missing := httptest.NewRecorder()
	h.ServeHTTP(missing, httptest.NewRequest(http.MethodGet, "/standin/runs/standin/p/nope", nil))
	if missing.Code != http.StatusNotFound {
		t.Fatalf("unknown run: %d", missing.Code)
	}
}

func TestOperationIsNamedByItsQueryWhenOperationNameIsMissing(t *testing.T) {
	for query, want := range map[string]string{
		"query Run($project: String!) { project { run { id } } }": "Run",
		"  mutation UpsertBucket { x }":                           "UpsertBucket",
		"{ viewer { id } }":                                       "",
	} {
		if got := operationName(graphqlRequest{Query: query}); got != want {
			t.Errorf("%q: %q, want %q", query, got, want)
		}
	}
	if got := operationName(graphqlRequest{OperationName: "Viewer", Query: "query Other { x }"}); got != "Viewer" {
		t.Errorf("operationName given: %q", got)
	}
	h := newServer(map[string]string{"STANDIN_API_KEY": "k1"}).routes()
	rec := post(t, h, "/graphql", basicAPIAuth("k1"), `{"query":"query GetDefaultEntity { viewer { entity } }"}`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"entity":"standin"`) {
		t.Fatalf("GetDefaultEntity by its query: %d %s", rec.Code, rec.Body)
	}
}

func TestRunIsReadBackWithPresignedDownloads(t *testing.T) {
	s := newServer(map[string]string{"STANDIN_API_KEY": "k1", "BUCKET": "s3://AK:SK@minio.lab:9000/wandb?tls=true",
		"HOST": "https://wandb.lab"})
	h := s.routes()
	auth := basicAPIAuth("k1")
	post(t, h, "/graphql", auth, `{"operationName":"UpsertBucket","variables":{"name":"r1","project":"p"}}`)
	post(t, h, "/graphql", auth, `{"operationName":"CreateRunFiles","variables":{"project":"p","run":"r1","files":["meta.json","a.txt"]}}`)
	post(t, h, "/files/standin/p/r1/file_stream", auth,
		`{"files":{"wandb-history.jsonl":{"offset":0,"content":["{\"loss\":1,\"_step\":0}"]}},"complete":true,"exitcode":0}`)
	for _, op := range []string{"Run", "RunFiles", "HistoryPage"} {
		rec := post(t, h, "/graphql", auth, `{"operationName":"`+op+`","variables":{"entity":"standin","project":"p","name":"r1","fileNames":["a.txt"]}}`)
		var body struct {
			Data struct {
				Project struct {
					Name string
					Run  struct {
						Name             string
						State            string
						HistoryLineCount int
						History          []string
						Files            struct {
							Edges []struct {
								Node struct{ Name, URL, DirectURL string }
							}
						}
					}
				}
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: %v %s", op, err, rec.Body)
		}
		run := body.Data.Project.Run
		if body.Data.Project.Name != "p" || run.Name != "r1" || run.State != "finished" || run.HistoryLineCount != 1 ||
			len(run.History) != 1 || len(run.Files.Edges) != 1 {
			t.Fatalf("%s: %s", op, rec.Body)
		}
		node := run.Files.Edges[0].Node
		direct, err := url.Parse(node.DirectURL)
		if err != nil || direct.Host != "minio.lab:9000" || direct.Path != "/wandb/standin/p/r1/a.txt" ||
			direct.Query().Get("X-Amz-Signature") == "" || node.URL != node.DirectURL {
			t.Fatalf("%s: file %+v", op, node)
		}
		if strings.Contains(rec.Body.String(), "SK") {
			t.Fatalf("%s: the secret key leaked: %s", op, rec.Body)
		}
	}
	// A file's url sends the client to a presigned GET in the bucket, with a key only.
	get := httptest.NewRequest(http.MethodGet, "/files/standin/p/r1/a.txt", nil)
	get.Header.Set("Authorization", auth)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, get)
	if rec.Code != http.StatusFound || !strings.HasPrefix(rec.Header().Get("Location"), "https://minio.lab:9000/wandb/standin/p/r1/a.txt?") {
		t.Fatalf("download: %d %v", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/files/standin/p/r1/a.txt", nil))
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("download without a key: %d", rec.Code)
	}
	// A CORS preflight (no key) follows to the bucket with its method kept.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodOptions, "/files/standin/p/r1/a.txt", nil))
	if rec.Code != http.StatusTemporaryRedirect || !strings.HasPrefix(rec.Header().Get("Location"), "https://minio.lab:9000/") {
		t.Fatalf("preflight: %d %v", rec.Code, rec.Header())
	}
	// An unknown run reads back as null, as the server answers.
	rec = post(t, h, "/graphql", auth, `{"operationName":"Run","variables":{"entity":"standin","project":"p","name":"nope"}}`)
	if !strings.Contains(rec.Body.String(), `"run":null`) {
		t.Fatalf("unknown run: %s", rec.Body)
	}
}
