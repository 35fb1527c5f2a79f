package testenv_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/signet-dev/signet/internal/testenv"
)

// TestMinIO starts a server, stores an object, and checks that the object
// survives Stop and Start while the server is unreachable in between.
func TestMinIO(t *testing.T) {
	m := testenv.MinIO(t)
	u, err := url.Parse(m.Endpoint)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("Endpoint = %q; want http://127.0.0.1:PORT", m.Endpoint)
	}
	bucket := m.NewBucket(t)
	c := m.Client()
	_, err = c.PutObject(t.Context(), &awss3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("k"), Body: strings.NewReader("kept"),
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	m.Stop(t)
	if resp, err := http.Get(m.Endpoint + "/minio/health/live"); err == nil {
		resp.Body.Close()
		t.Fatalf("GET /minio/health/live after Stop = %s; want a connection error", resp.Status)
	}
	m.Start(t)

	out, err := c.GetObject(t.Context(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("GetObject after Start: %v", err)
	}
	defer out.Body.Close()
	if b, err := io.ReadAll(out.Body); err != nil || string(b) != "kept" {
		t.Errorf("GetObject after Start = %q, %v; want %q", b, err, "kept")
	}
}
